// Every verification of a secret, on every path and transport, draws one attempt from the budget of the account and
// of the client address before anything is checked (so malformed guesses count too); a success gives it back.
import type { Deps } from './deps.js';
import type { RequestFacts } from './request.js';

export { userAccountKey } from '../security/attempts.js';

export async function spendAttempt<T>(
  deps: Pick<Deps, 'attempts'>,
  accountKey: string,
  request: RequestFacts,
  verify: () => Promise<T>,
  succeeded: (result: T) => boolean,
): Promise<T> {
  await deps.attempts.consume(accountKey, request.clientAddress);
  const result = await verify();
  if (succeeded(result)) await deps.attempts.refund(accountKey, request.clientAddress);
  return result;
}
