// Creates the Pothos builder and nothing else (STYLE.md); schema parts import it.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DomainError } from '../domain/shared/errors.js';
import type { GraphQLContext } from './context.js';
import type { knownRoles } from '../domain/user/decide.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: {
    /** A session verified with a second factor (django-otp's otp_required). */
    aal2: boolean;
    /** A full session (never one limited to enrolling a factor) of a user holding the role. */
    role: string;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}>({
  // Errors first: it wraps the others, so scope failures and validation failures become union members too.
  plugins: [ErrorsPlugin, ScopeAuthPlugin],
  defaultFieldNullability: false,
  errors: { defaultTypes: [DomainError], directResult: true },
  scopeAuth: {
    authScopes: (context) => ({
      // A function, like role, so scope-auth checks the two in the order a field lists them (role first: a caller
      // without the role is told FORBIDDEN, one with it but without a second factor MFA_REQUIRED).
      aal2: () => context.caller.kind === 'session' && context.caller.session.aal >= 2,
      // A role acts only through a full session, never one limited to enrolling a factor. Fields of privileged roles
      // also ask for aal2 ($all), so a stolen password alone unlocks nothing.
      role: (role) => context.caller.kind === 'session' && !context.caller.session.enrollOnly && context.caller.user.roles.includes(role),
    }),
    unauthorizedError: (_parent, context, _info, result) => {
      if (context.caller.kind !== 'session') return new DomainError('NOT_AUTHENTICATED');
      const failed = scopeFailures(result.failure);
      if (context.caller.session.enrollOnly) return new DomainError('MFA_REQUIRED', 'Set up a second factor first.');
      if (failed.some((f) => f.scope === 'role')) return new DomainError('FORBIDDEN');
      // Holding the role but not a strong enough session: the answer is "use your second factor", not "not allowed".
      return new DomainError('MFA_REQUIRED');
    },
  },
});

builder.scalarType('DateTime', {
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value as string).toISOString()),
  parseValue: (value) => {
    const date = new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new DomainError('VALIDATION_FAILED', 'not a date');
    return date;
  },
});

builder.scalarType('JSON', {
  serialize: (value) => value,
  parseValue: (value) => value,
});

/**
 * django-otp's `otp_required` for this schema: a session verified with a strong second factor (AAL2; a password plus
 * an email code is AAL1 and never passes). Put on a field as `authScopes: otpRequired`; privileged() includes it.
 * test/integration/policy/guard.test.ts lists every field carrying it and calls each from an AAL1 session.
 */
export const otpRequired = { aal2: true } as const;

/**
 * The scopes of a field of a privileged role (admin, auditor, analyst): the role, through a full session verified with
 * a second factor. A stolen password alone unlocks nothing, whatever the enrolment deadlines are.
 */
export function privileged(role: (typeof knownRoles)[number]) {
  return { $all: { role, ...otpRequired } } as const;
}

builder.queryType({});
builder.mutationType({});

/** The individual scope checks that failed, however scope-auth nested them ($any / $all). */
function scopeFailures(failure: unknown): Array<{ scope: string; parameter: unknown }> {
  const f = failure as { scope?: string; parameter?: unknown; failures?: unknown[] };
  if (Array.isArray(f.failures)) return f.failures.flatMap(scopeFailures);
  return typeof f.scope === 'string' ? [{ scope: f.scope, parameter: f.parameter }] : [];
}
