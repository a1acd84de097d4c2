// "This wasn't me" (issue 17). Every security notice carries a single-use key (24 hours; only its keyed hash is in
// the notice's event). Using it records CompromiseReported and, in one transaction: ends every session, pending login
// and device trust; requires a password reset before the next login; puts back the address the notice says was
// replaced; suspends the factor the notice says was added. Whoever holds only the mailbox gains no way past the second
// factor through it: a suspended factor that was the only second factor locks the account for assisted recovery
// (an administrator restores a factor: `tessera users restore-factor`), never leaves it to the password alone.
import { z } from 'zod';
import { matchesRecoveryHash } from '../crypto/recoveryTokens.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import type { SuspendableFactor } from '../domain/authenticators/events.js';
import { hasUsableSecondFactor, suspendedFactors } from '../domain/authenticators/state.js';
import type { SecurityNotificationRequested } from '../domain/notification/events.js';
import { DomainError } from '../domain/shared/errors.js';
import { streams } from '../domain/shared/streams.js';
import { emailClaimAggregate, userAggregate } from '../domain/user/aggregate.js';
import { unknownAccountKey } from '../security/attempts.js';
import { requireSensitiveChange } from './authorization.js';
import type { Caller } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { revokeAllDeviceTrustIn } from './devices.js';
import { abandonPendingLoginsIn } from './loginFlow.js';
import { actingAs, type RequestFacts } from './request.js';
import { revokeOtherSessionsIn } from './sessions.js';
import { parseInput } from './validation.js';

export const compromiseKeyTtlSeconds = 24 * 3600;

type CompromiseDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'db' | 'attempts' | 'secrets' | 'personalData'>;

export interface CompromiseReport {
  userId: string;
  suspendedFactors: number;
  emailRestored: boolean;
  /** The suspended factor was the only second factor: the account waits for an administrator. */
  assistedRecovery: boolean;
}

/** The key in a notice's link: `<notificationId>.<secret>`. */
const keyPattern = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

function suspensionFor(cause: { type: string; data: Record<string, unknown> } | undefined): { factor: SuspendableFactor; authenticatorId: string | null } | null {
  switch (cause?.type) {
    case 'TotpActivated': return { factor: 'totp', authenticatorId: null };
    case 'WebAuthnCredentialRegistered': return { factor: 'webauthn', authenticatorId: String(cause.data.authenticatorId) };
    case 'RecoveryCodesGenerated': return { factor: 'recovery_codes', authenticatorId: null };
    default: return null;
  }
}

export async function reportCompromise(deps: CompromiseDeps, input: unknown, request: RequestFacts): Promise<CompromiseReport> {
  const { key } = parseInput(z.object({ key: z.string().trim().min(1, 'is required').max(200, 'is too long') }), input);
  // An anonymous write, and a guess at a key: both budgets of the client address, and one of the notice's own.
  await deps.attempts.consumeAddress(request.clientAddress);
  const match = keyPattern.exec(key);
  await deps.attempts.consume(unknownAccountKey(`compromise:${match?.[1] ?? 'malformed'}`), request.clientAddress);
  if (!match) throw new DomainError('INVALID_KEY');
  const notificationId = match[1]!;
  const notice = (await deps.store.readStream(streams.notification(notificationId)))
    .find((e) => e.type === 'SecurityNotificationRequested') as unknown as (SecurityNotificationRequested & { position: number }) | undefined;
  const data = notice?.data;
  if (!data?.reportKeyHash || !matchesRecoveryHash(deps.secrets.keys, 'compromise', key, data.reportKeyHash, data.keyId)) throw new DomainError('INVALID_KEY');
  if (deps.clock.now().getTime() >= new Date(data.at).getTime() + compromiseKeyTtlSeconds * 1000) throw new DomainError('INVALID_KEY');
  const { userId } = data;
  // What the notice was about: the event that caused it, read from its own stream (where its personal data is readable).
  const causeStream = data.causeType === 'EmailChanged' ? streams.user(userId) : streams.authenticators(userId);
  const cause = (await deps.store.readStream(causeStream)).find((e) => e.position === data.causePosition);
  const suspension = suspensionFor(cause);
  const asOwner = actingAs(request, userId);
  return deps.store.transactionWithRetry(async (tx) => {
    const now = deps.clock.now().toISOString();
    let suspendedFactors = 0;
    let assistedRecovery = false;
    if (suspension) {
      const { events, state } = await handle(deps, tx, authenticatorsAggregate, userId, { type: 'SuspendFactor', data: { userId, ...suspension, notificationId, now } }, asOwner);
      suspendedFactors = events.length;
      // Never the password alone: with no second factor left to use, the account waits for an administrator.
      assistedRecovery = events.length > 0 && suspension.factor !== 'recovery_codes' && !hasUsableSecondFactor(state);
    }
    const { state: user } = await handle(deps, tx, userAggregate, userId, {
      type: 'ReportCompromise', data: { notificationId, kind: data.kind, causeType: data.causeType, causePosition: data.causePosition, assistedRecovery, now },
    }, asOwner);
    let emailRestored = false;
    const changed = cause?.type === 'EmailChanged' ? (cause.data as { email: string; previousEmail: string; reason?: string }) : null;
    if (changed && changed.reason !== 'restored' && user.email === changed.email) {
      // The replaced address comes back unless someone else has claimed it since (then the account keeps the new one).
      const claimed = await handle(deps, tx, emailClaimAggregate, deps.personalData.hashes.email(changed.previousEmail), { type: 'ClaimEmail', data: { userId, now } }, asOwner)
        .then(() => true, (error: unknown) => {
          if (error instanceof DomainError && error.code === 'EMAIL_TAKEN') return false;
          throw error;
        });
      if (claimed) {
        await handle(deps, tx, emailClaimAggregate, deps.personalData.hashes.email(changed.email), { type: 'ReleaseEmail', data: { userId, now } }, asOwner);
        await handle(deps, tx, userAggregate, userId, { type: 'ChangeEmail', data: { email: changed.previousEmail, reason: 'restored', now } }, asOwner);
        emailRestored = true;
      }
    }
    await abandonPendingLoginsIn(deps, tx, userId, asOwner);
    await revokeAllDeviceTrustIn(deps, tx, userId, 'compromise_reported', asOwner);
    await revokeOtherSessionsIn(deps, tx, userId, null, 'compromise_reported', asOwner);
    return { userId, suspendedFactors, emailRestored, assistedRecovery };
  });
}

export interface FactorRef {
  factor: SuspendableFactor;
  authenticatorId: string | null;
}

/**
 * The owner confirms a suspended factor as theirs: from a session that proved another factor (AAL2) recently. A
 * suspended factor can never have been that factor: the MFA step refuses it.
 */
export async function confirmSuspendedFactor(deps: Pick<Deps, 'store' | 'clock' | 'config'>, caller: Caller, factor: FactorRef, request: RequestFacts): Promise<void> {
  const auth = await requireSensitiveChange(deps, caller);
  if (auth.session.aal < 2) throw new DomainError('MFA_REQUIRED');
  await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, authenticatorsAggregate, auth.user.id, { type: 'RestoreFactor', data: { userId: auth.user.id, ...factor, by: 'owner', now: deps.clock.now().toISOString() } }, request));
}

/**
 * Assisted recovery (operators: `tessera users restore-factor`): an administrator, having established who the owner
 * is by other means, restores a suspended factor and ends the lock. The password reset the report required stays
 * required: the owner resets by email, then signs in with the password and the restored factor.
 */
export async function restoreFactorByAdmin(deps: Pick<Deps, 'store' | 'clock'>, userId: string, factor: FactorRef, request: RequestFacts): Promise<void> {
  await deps.store.transactionWithRetry(async (tx) => {
    const now = deps.clock.now().toISOString();
    await handle(deps, tx, authenticatorsAggregate, userId, { type: 'RestoreFactor', data: { userId, ...factor, by: 'admin', now } }, request);
    await handle(deps, tx, userAggregate, userId, { type: 'UnlockUser', data: { by: 'admin', now } }, request);
  });
}

/** The suspended factors of a user, for the operator choosing which to restore. */
export async function suspendedFactorsOf(deps: Pick<Deps, 'store'>, userId: string): Promise<Array<FactorRef & { name: string }>> {
  return suspendedFactors((await load(deps.store, authenticatorsAggregate, userId)).state);
}
