// Expected failures are data (DESIGN.md §6): union members implementing `interface Error { code message }`.
import { DomainError } from '../domain/shared/errors.js';
import { builder } from './builder.js';

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  fields: (t) => ({
    code: t.exposeString('code'),
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
