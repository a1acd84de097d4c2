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
import type { Queryable } from '../db/index.js';
import { z } from 'zod';
import { parseInput } from './validation.js';
import { requestEmailVerificationIn } from './emailVerification.js';
import { findUserByEmail } from '../projections/users.js';

type AccountDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'passwords' | 'attempts' | 'db' | 'personalData' | 'secrets'>;

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
    if (await findUserByEmail(deps.db, deps.personalData.hashes.email(email))) throw new DomainError('EMAIL_TAKEN');
    await deps.store.transactionWithRetry((tx) => requestEmailVerificationIn(deps, tx, userId, email, request));
    return auth.user;
  }
  await deps.store.transactionWithRetry(async (tx) => {
    const loaded = await load(deps.store, userAggregate, userId, tx);
    if (loaded.state.email === email) return;
    const now = deps.clock.now().toISOString();
    const emailKey = deps.personalData.hashes.email;
    await handle(deps, tx, emailClaimAggregate, emailKey(email), { type: 'ClaimEmail', data: { userId, now } }, request);
    await handle(deps, tx, emailClaimAggregate, emailKey(loaded.state.email!), { type: 'ReleaseEmail', data: { userId, now } }, request);
    await handle(deps, tx, userAggregate, userId, { type: 'ChangeEmail', data: { email, now } }, request, { loaded });
  });
  return { ...auth.user, email };
}

/**
 * Deleting an account ends all its sessions and pending logins, frees its email and its WebAuthn credential ids for
 * whoever registers them next, and erases the person: their data key is destroyed after UserDeleted (and everything
 * else this transaction appends for them) is written, so every event that holds their personal data stays, hashes
 * and all, and none of it can be read again (issue 14 item 0).
 */
export async function deleteAccount(deps: AccountDeps, caller: Caller, request: RequestFacts): Promise<void> {
  const auth = await requireAccountChange(deps, caller);
  const userId = auth.user.id;
  await deps.store.transactionWithRetry(async (tx) => {
    const now = deps.clock.now().toISOString();
    const loaded = await load(deps.store, userAggregate, userId, tx);
    const { state } = await handle(deps, tx, userAggregate, userId, { type: 'DeleteAccount', data: { now } }, request, { loaded });
    await endAccountIn(deps, tx, userId, loaded.state.email, request);
    // Last of the transaction's events: the erasure record, after which nothing new of the person is written readable.
    await handle(deps, tx, userAggregate, userId, { type: 'EraseUser', data: { by: userId, reason: 'account deleted by its owner', now } }, request, {
      loaded: { state, version: loaded.version + 1 },
    });
    await destroyPersonalDataIn(deps, tx, userId);
  });
}

/** What deleting an account ends besides the account itself: its email claim, credential ids, logins and sessions. */
async function endAccountIn(deps: AccountDeps, tx: Queryable, userId: string, email: string | null, request: RequestFacts): Promise<void> {
  const now = deps.clock.now().toISOString();
  if (email !== null) await handle(deps, tx, emailClaimAggregate, deps.personalData.hashes.email(email), { type: 'ReleaseEmail', data: { userId, now } }, request);
  const { state: factors } = await load(deps.store, authenticatorsAggregate, userId, tx);
  for (const credentialId of factors.claimedCredentialIds) {
    await handle(deps, tx, webauthnCredentialAggregate, credentialId, { type: 'ReleaseWebAuthnCredential', data: { userId, now } }, request);
  }
  await abandonPendingLoginsIn(deps, tx, userId, request);
  await revokeOtherSessionsIn(deps, tx, userId, null, 'account_deleted', request);
}

/** The key goes, and the delivery state that holds their address (the outbox is not the log: its rows may go). */
async function destroyPersonalDataIn(deps: AccountDeps, tx: Queryable, userId: string): Promise<void> {
  await tx.query(`delete from notification_outbox where user_id = $1`, [userId]);
  await tx.query(`delete from webauthn_challenges where user_id = $1`, [userId]);
  await deps.personalData.destroyKey(tx, userId, deps.clock.now());
}

/** An administrator's erase: `reason` is stored in clear in UserErased, so it must not contain personal data. */
export const erasureReasonSchema = z.string().trim().min(3, 'give a reason (a ticket number, a legal basis)').max(200)
  .refine((r) => !/@/.test(r) && !/\b\d{1,3}(\.\d{1,3}){3}\b/.test(r) && !/[0-9a-f]{0,4}:[0-9a-f]{0,4}:[0-9a-f:]+/i.test(r), 'must not contain an email or an address (it is kept in clear)');

/**
 * Erases a person on an administrator's word (issue 14 item 0): an account that still exists is deleted first (its
 * sessions, logins, email and credential ids end as in deleteAccount), then UserErased records who erased and why,
 * then the key is destroyed. Erasing an already deleted account records the erasure and destroys the key again (a
 * no-op when it is already gone). The caller must be an administrator at AAL2 (authorization in the transport's guard).
 */
export async function eraseUser(
  deps: AccountDeps, adminId: string, input: { userId: string; reason: string }, request: RequestFacts,
): Promise<{ userId: string; erasedAt: string }> {
  const { reason } = parseInput(z.object({ reason: erasureReasonSchema }), { reason: input.reason });
  const now = deps.clock.now().toISOString();
  await deps.store.transactionWithRetry(async (tx) => {
    const loaded = await load(deps.store, userAggregate, input.userId, tx);
    if (!loaded.state.exists) throw new DomainError('NOT_FOUND');
    let version = loaded;
    if (!loaded.state.deleted) {
      const { state } = await handle(deps, tx, userAggregate, input.userId, { type: 'DeleteAccount', data: { now } }, request, { loaded });
      await endAccountIn(deps, tx, input.userId, loaded.state.email, request);
      version = { state, version: loaded.version + 1 };
    }
    await handle(deps, tx, userAggregate, input.userId, { type: 'EraseUser', data: { by: adminId, reason, now } }, request, { loaded: version });
    await destroyPersonalDataIn(deps, tx, input.userId);
  });
  return { userId: input.userId, erasedAt: now };
}
