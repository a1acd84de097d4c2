// Expected failures are data (DESIGN.md §6): union members implementing `interface Error { code message }`.
import { DomainError, errorCodes } from '../domain/shared/errors.js';
import { builder } from './builder.js';

/** Generated from the one list of codes (domain/shared/errors.ts): clients switch on it, and a new code is a schema change. */
export const ErrorCodeEnum = builder.enumType('ErrorCode', { values: errorCodes });

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

// One GraphQL type per shape of detail; the code says which failure it is.
builder.objectType(DomainError, {
  name: 'AuthError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof DomainError,
  fields: (t) => ({
    field: t.string({ nullable: true, description: 'The input field at fault (VALIDATION_FAILED).', resolve: (e) => e.details.field ?? null }),
    retryAfterSeconds: t.int({ nullable: true, description: 'When to try again (RATE_LIMITED, ACCOUNT_LOCKED).', resolve: (e) => e.details.retryAfterSeconds ?? null }),
  }),
});
