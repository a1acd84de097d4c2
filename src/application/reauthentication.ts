// Reauthentication with the password: proves the user again, for sensitive changes. The code and security-key forms
// (mfaReauthenticate, WebAuthn step-up) live with their factors in mfaStep.ts and webauthnAuthentication.ts.
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { accountAttempt, spendAttempt } from './attempts.js';
import { requireSession } from './authorization.js';
import type { Caller } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import type { RequestFacts } from './request.js';
import { reauthenticateSessionIn, type IssuedToken } from './sessions.js';

type PasswordDeps = Pick<Deps, 'store' | 'clock' | 'passwords' | 'attempts' | 'db'>;

/**
 * Verifies a signed-in user's password, drawing on the account's budget. A wrong one is recorded
 * (ReauthenticationRejected) in its own transaction, so it counts towards the lockout even though the command around
 * it fails. A passkey-only account has no password: the dummy hash is verified so the answer costs the same, and it is a no.
 */
export async function verifyPassword(
  deps: PasswordDeps, userId: string, password: string, purpose: 'reauthenticate' | 'change_password', request: RequestFacts,
): Promise<boolean> {
  return spendAttempt(deps, await accountAttempt(deps, userId, request), async (request) => {
    const { state } = await load(deps.store, userAggregate, userId);
    const valid = state.passwordHash ? (await deps.passwords.verify(state.passwordHash, password)).valid : await deps.passwords.verifyDummy(password);
    if (!valid) {
      await deps.store.transactionWithRetry((tx) =>
        handle(deps, tx, userAggregate, userId, { type: 'RejectPassword', data: { purpose, now: deps.clock.now().toISOString() } }, request));
    }
    return valid;
  }, (valid) => valid);
}

export async function reauthenticateWithPassword(
  deps: PasswordDeps & Pick<Deps, 'config'>, caller: Caller, password: string, request: RequestFacts,
): Promise<IssuedToken> {
  const auth = requireSession(caller, { allowEnrollOnly: true });
  if (!(await verifyPassword(deps, auth.user.id, password, 'reauthenticate', request))) throw new DomainError('INVALID_CREDENTIALS');
  return deps.store.transactionWithRetry((tx) => reauthenticateSessionIn(deps, tx, auth.session.id, 'reauthentication', auth.session.aal, request));
}
