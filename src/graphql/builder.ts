// Creates the Pothos builder and nothing else (STYLE.md); schema parts import it.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DomainError } from '../domain/shared/errors.js';
import { rolesRequiringMfa } from '../domain/user/policy.js';
import type { GraphQLContext } from './context.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: {
    /** A full session (not a pending login, not an enrol-only session). */
    authenticated: boolean;
    /** Any session, including one limited to setting up a factor (MFA_ENROLL_REQUIRED). */
    session: boolean;
    /** A session verified with a second factor (django-otp's otp_required). */
    aal2: boolean;
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
      authenticated: context.auth.kind === 'session' && !context.auth.session.enrollOnly,
      session: context.auth.kind === 'session',
      aal2: context.auth.kind === 'session' && context.auth.session.aal >= 2,
      // A role acts only through a full session (never one limited to enrolling a factor), and the roles that require
      // MFA act only at AAL2: a stolen admin password alone unlocks nothing.
      role: (role) =>
        context.auth.kind === 'session' && !context.auth.session.enrollOnly && context.auth.user.roles.includes(role) &&
        (!(rolesRequiringMfa as readonly string[]).includes(role) || context.auth.session.aal >= 2),
    }),
    unauthorizedError: (_parent, context, _info, result) => {
      if (context.auth.kind !== 'session') return new DomainError('NOT_AUTHENTICATED');
      const failed = scopeFailures(result.failure);
      if (context.auth.session.enrollOnly) return new DomainError('MFA_REQUIRED', 'Set up a second factor first.');
      if (failed.some((f) => f.scope === 'aal2' || f.scope === 'authenticated')) return new DomainError('MFA_REQUIRED');
      // Holding the role but not a strong enough session: the answer is "use your second factor", not "not allowed".
      if (failed.some((f) => f.scope === 'role' && context.auth.kind === 'session' && context.auth.user.roles.includes(String(f.parameter)))) return new DomainError('MFA_REQUIRED');
      return new DomainError('FORBIDDEN');
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

builder.queryType({});
builder.mutationType({});

/** The individual scope checks that failed, however scope-auth nested them ($any / $all). */
function scopeFailures(failure: unknown): Array<{ scope: string; parameter: unknown }> {
  const f = failure as { scope?: string; parameter?: unknown; failures?: unknown[] };
  if (Array.isArray(f.failures)) return f.failures.flatMap(scopeFailures);
  return typeof f.scope === 'string' ? [{ scope: f.scope, parameter: f.parameter }] : [];
}
