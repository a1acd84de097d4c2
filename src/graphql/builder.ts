// Creates the Pothos builder and nothing else (STYLE.md); schema parts import it.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DomainError } from '../domain/shared/errors.js';
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
      role: (role) => context.auth.kind === 'session' && context.auth.user.roles.includes(role),
    }),
    unauthorizedError: (_parent, context, _info, result) => {
      if (context.auth.kind !== 'session') return new DomainError('NOT_AUTHENTICATED');
      if (result.failure.kind === 'AuthScope' && result.failure.scope === 'aal2') return new DomainError('MFA_REQUIRED');
      if (result.failure.kind === 'AuthScope' && result.failure.scope === 'authenticated') return new DomainError('MFA_REQUIRED', 'Set up a second factor first.');
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
