// Password, email and account deletion: the account-change rule (recent authentication, AAL2 next to a factor, never
// from an enrol-only session), then the change and what it ends, in one transaction.
import { authenticatorsAggregate, webauthnCredentialAggregate } from '../domain/authenticators/aggregate.js';
import { DomainError } from '../domain/shared/errors.js';
import { emailClaimAggregate, userAggregate } from '../domain/user/aggregate.js';
import { requireAccountChange } from './authorization.js';
import type { Caller, UserView } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { revokeAllDeviceTrustIn } from './devices.js';
import { abandonPendingLoginsIn } from './loginFlow.js';
import { verifyPassword } from './reauthentication.js';
import type { RequestFacts } from './request.js';
import { revokeOtherSessionsIn } from './sessions.js';
import { assertPasswordPolicy } from './signup.js';
import { requestEmailVerificationIn } from './emailVerification.js';
import { findUserByEmail } from '../projections/users.js';

type AccountDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'passwords' | 'attempts' | 'db' | 'secrets'>;

/** Changing the password ends every other session of the user, in the same transaction. */
export async function changePassword(
  deps: AccountDeps, caller: Caller, input: { currentPassword: string; newPassword: string }, request: RequestFacts,
): Promise<{ endedSessions: string[] }> {
  const auth = await requireAccountChange(deps, caller);
  assertPasswordPolicy(input.newPassword, 'newPassword');
  if (!(await verifyPassword(deps, auth.user.id, input.currentPassword, 'change_password', request))) {
    throw new DomainError('INVALID_CREDENTIALS', 'The current password is not correct.', { field: 'currentPassword' });
  }
  const passwordHash = await deps.passwords.hash(input.newPassword);
  return deps.store.transactionWithRetry(async (tx) => {
    await handle(deps, tx, userAggregate, auth.user.id, { type: 'ChangePassword', data: { passwordHash, now: deps.clock.now().toISOString() } }, request);
    // A login that verified the old password either failed on the new hash or committed before this append (it holds
    // the user stream until it commits): its session or pending MFA step is ended here, with the others.
    await abandonPendingLoginsIn(deps, tx, auth.user.id, request);
    await revokeAllDeviceTrustIn(deps, tx, auth.user.id, 'password_changed', request);
    return { endedSessions: await revokeOtherSessionsIn(deps, tx, auth.user.id, auth.session.id, 'password_changed', request) };
  });
}

/**
 * With ACCOUNT_EMAIL_VERIFICATION optional or mandatory, the change waits for the new address's code (verifyEmail,
 * which then claims it): a code goes to the new address and a notice, with its "this wasn't me" link, to the current
 * one; the user is answered with the address unchanged. With none, the change is immediate. Either way the new
 * address is claimed and the old one released in one transaction, so an address is never owned twice.
 */
export async function changeEmail(deps: AccountDeps, caller: Caller, email: string, request: RequestFacts): Promise<UserView> {
  const auth = await requireAccountChange(deps, caller);
  const userId = auth.user.id;
  if (deps.config.emailVerification !== 'none') {
    if (email === auth.user.email) return auth.user;
    if (await findUserByEmail(deps.db, email)) throw new DomainError('EMAIL_TAKEN');
    await deps.store.transactionWithRetry((tx) => requestEmailVerificationIn(deps, tx, userId, email, request));
    return auth.user;
  }
  await deps.store.transactionWithRetry(async (tx) => {
    const loaded = await load(deps.store, userAggregate, userId, tx);
    if (loaded.state.email === email) return;
    const now = deps.clock.now().toISOString();
    await handle(deps, tx, emailClaimAggregate, email, { type: 'ClaimEmail', data: { userId, now } }, request);
    await handle(deps, tx, emailClaimAggregate, loaded.state.email!, { type: 'ReleaseEmail', data: { userId, now } }, request);
    await handle(deps, tx, userAggregate, userId, { type: 'ChangeEmail', data: { email, now } }, request, { loaded });
  });
  return { ...auth.user, email };
}

/**
 * Deleting an account ends all its sessions and pending logins and frees its email and its WebAuthn credential ids
 * for whoever registers them next.
 */
export async function deleteAccount(deps: AccountDeps, caller: Caller, request: RequestFacts): Promise<void> {
  const auth = await requireAccountChange(deps, caller);
  const userId = auth.user.id;
  await deps.store.transactionWithRetry(async (tx) => {
    const now = deps.clock.now().toISOString();
    const { state } = await handle(deps, tx, userAggregate, userId, { type: 'DeleteAccount', data: { now } }, request);
    await handle(deps, tx, emailClaimAggregate, state.email!, { type: 'ReleaseEmail', data: { userId, now } }, request);
    const { state: factors } = await load(deps.store, authenticatorsAggregate, userId, tx);
    for (const credentialId of factors.claimedCredentialIds) {
      await handle(deps, tx, webauthnCredentialAggregate, credentialId, { type: 'ReleaseWebAuthnCredential', data: { userId, now } }, request);
    }
    await abandonPendingLoginsIn(deps, tx, userId, request);
    await revokeOtherSessionsIn(deps, tx, userId, null, 'account_deleted', request);
  });
}
