// Sensitive account changes. The GraphQL layer checks recent reauthentication and AAL before calling these.
import type { App } from '../../app.js';
import { DomainError } from '../shared/errors.js';
import type { RequestInfo } from '../shared/request.js';
import { retryOnConflict } from '../shared/streams.js';
import { revokeOtherSessions } from '../session/handle.js';
import { accountKeyFor } from '../../security/attempts.js';
import { assertPasswordPolicy, executeUser, emailStreamId, loadUser } from './handle.js';
import { loadAggregate } from '../shared/streams.js';
import { evolveEmailClaim, initialEmailClaimState } from './state.js';

/**
 * Verifies a password of a signed-in user (reauthentication, password change), drawing on the account's budget. A
 * wrong one is recorded (ReauthenticationRejected) in its own transaction, so it counts towards the lockout even
 * though the command around it fails.
 */
export async function verifyUserPassword(app: App, userId: string, password: string, request: RequestInfo = { ip: '', userAgent: '', metadata: { actor: userId } }, purpose: 'reauthenticate' | 'change_password' = 'reauthenticate'): Promise<boolean> {
  const key = accountKeyFor(userId, '');
  await app.attempts.consume(key);
  const { state } = await loadUser(app, userId);
  // A passkey-only account has no password: the dummy hash is verified so the answer costs the same, and it is a no.
  const { valid } = state.passwordHash ? await app.passwords.verify(state.passwordHash, password) : { valid: await app.passwords.verifyDummy(password) };
  if (valid) await app.attempts.refund(key);
  else {
    await retryOnConflict(() =>
      app.store.transaction((tx) => executeUser(app, tx, userId, { type: 'RejectPassword', data: { purpose, now: app.clock.now().toISOString() } }, request)),
    );
  }
  return valid;
}

/** Changing the password ends every other session of the user, in the same transaction. */
export async function changePassword(app: App, input: { userId: string; sessionId: string; currentPassword: string; newPassword: string }, request: RequestInfo): Promise<{ endedSessions: string[] }> {
  assertPasswordPolicy(input.newPassword, 'newPassword');
  if (!(await verifyUserPassword(app, input.userId, input.currentPassword, request, 'change_password'))) {
    throw new DomainError('INVALID_CREDENTIALS', 'The current password is not correct.', { field: 'currentPassword' });
  }
  const passwordHash = await app.passwords.hash(input.newPassword);
  return retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      await executeUser(app, tx, input.userId, { type: 'ChangePassword', data: { passwordHash, now: app.clock.now().toISOString() } }, request);
      return { endedSessions: await revokeOtherSessions(app, tx, input.userId, input.sessionId, 'password_changed', request) };
    }),
  );
}

/** Deleting an account ends all its sessions and frees its email for a new account. */
export async function deleteAccount(app: App, userId: string, request: RequestInfo): Promise<void> {
  await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const state = await executeUser(app, tx, userId, { type: 'DeleteAccount', data: { now: app.clock.now().toISOString() } }, request);
      const claimStream = emailStreamId(state.email!);
      const claim = await loadAggregate(app.store, claimStream, initialEmailClaimState, evolveEmailClaim, tx);
      if (claim.state.claimedBy === userId) {
        await app.store.append(claimStream, [{ type: 'EmailReleased', data: { userId, at: app.clock.now().toISOString() } }], { expectedVersion: claim.version, metadata: request.metadata, now: app.clock.now(), tx });
      }
      await revokeOtherSessions(app, tx, userId, null, 'account_deleted', request);
    }),
  );
}
