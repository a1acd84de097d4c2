// Email verification by code (issue 17): ACCOUNT_EMAIL_VERIFICATION none | optional | mandatory. A code is sent at
// signup (optional, mandatory), at a login of an unverified account (mandatory), for an email change (optional,
// mandatory: the change waits for the new address's code, and the old address is told), and on request (resend).
// The code is derived from a nonce and the server key; the user stream holds only its keyed hash (crypto/recoveryTokens.ts).
import type { Queryable } from '../db/index.js';
import { deriveCode, matchesRecoveryHash, newNonce, recoveryHash, signFlowToken, type PendingFlowKind } from '../crypto/recoveryTokens.js';
import { newId } from '../crypto/tokens.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { hasSecondFactor } from '../domain/authenticators/state.js';
import { DomainError } from '../domain/shared/errors.js';
import { emailClaimAggregate, userAggregate } from '../domain/user/aggregate.js';
import { userAccountKey } from '../security/attempts.js';
import { accountAttempt, attemptIn } from './attempts.js';
import { requireSession } from './authorization.js';
import type { Caller } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps, WriteDeps } from './deps.js';
import { actingAs, type RequestFacts } from './request.js';
import { startSessionIn, type IssuedSession, type IssuedToken } from './sessions.js';
import { codeSchema, parseInput } from './validation.js';
import { z } from 'zod';
import { untrustedBucket } from '../domain/user/state.js';

/** Codes live 15 minutes (allauth's ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT), and so does the flow that waits for one. */
export const emailCodeTtlSeconds = 15 * 60;

type SecretDeps = Pick<Deps, 'secrets' | 'clock'>;

/** A pending VERIFY_EMAIL or PASSWORD_RESET_BY_CODE flow for `subject` (an account, or an id naming none). */
export function issueFlowToken(deps: SecretDeps, flow: PendingFlowKind, subject: string): IssuedToken {
  const expiresAt = new Date(deps.clock.now().getTime() + emailCodeTtlSeconds * 1000);
  return { token: signFlowToken(deps.secrets.keys, { flow, subject, expiresAt }), expiresInSeconds: emailCodeTtlSeconds };
}

/** Sends a new verification code (EmailVerificationRequested; the reactor mails it), in the caller's transaction. */
export async function requestEmailVerificationIn(
  deps: WriteDeps & SecretDeps, tx: Queryable, userId: string, newEmail: string | null, request: RequestFacts,
): Promise<void> {
  const keys = deps.secrets.keys;
  const nonce = newNonce();
  const keyId = keys.currentKeyId;
  const codeHash = recoveryHash(keys, 'email_verification', deriveCode(keys, 'email_verification', nonce, keyId), keyId);
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + emailCodeTtlSeconds * 1000).toISOString();
  await handle(deps, tx, userAggregate, userId, { type: 'RequestEmailVerification', data: { nonce, keyId, codeHash, expiresAt, newEmail, now: now.toISOString() } }, request);
}

type VerifyDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'db' | 'attempts' | 'secrets' | 'personalData'>;

/** Whose verification a caller may answer: a VERIFY_EMAIL flow's subject, or a signed-in user's own. */
function subjectOf(caller: Caller): { userId: string; viaFlow: boolean } {
  if (caller.kind === 'flow' && caller.flow.flow === 'verify_email') return { userId: caller.flow.subject, viaFlow: true };
  if (caller.kind === 'session') return { userId: requireSession(caller).user.id, viaFlow: false };
  throw new DomainError('FLOW_NOT_PENDING');
}

export interface VerifyEmailResult {
  /** A session, when a VERIFY_EMAIL flow after signup or login (mandatory) completes for an account without a second factor. */
  session: IssuedSession | null;
  email: string;
}

/**
 * The code of the open verification. Drawn from the account's budget before anything is checked (a malformed code
 * counts too); a wrong code is recorded (EmailVerificationRejected) and three of them end the code. A verified email
 * change claims the new address and releases the old one in the same transaction.
 */
export async function verifyEmail(deps: VerifyDeps, caller: Caller, input: unknown, request: RequestFacts): Promise<VerifyEmailResult> {
  const { userId, viaFlow } = subjectOf(caller);
  const attempt = viaFlow ? attemptIn(userId, untrustedBucket, request) : await accountAttempt(deps, userId, request);
  await deps.attempts.consume(attempt.key, request.clientAddress);
  request = actingAs(attempt.request, userId);
  const { code } = parseInput(z.object({ code: codeSchema }), input);
  const { state } = await load(deps.store, userAggregate, userId);
  const open = state.verification;
  const verifiedHash = open && matchesRecoveryHash(deps.secrets.keys, 'email_verification', code, open.codeHash, open.keyId) ? open.codeHash : null;
  // A flow whose subject is no account (a taken address at signup): the same work, the same answer as a wrong code.
  if (!state.exists || state.deleted) throw new DomainError('INVALID_CODE');
  const outcome = await deps.store.transactionWithRetry(async (tx) => {
    const now = deps.clock.now().toISOString();
    const before = await load(deps.store, userAggregate, userId, tx);
    const { events, state: after } = await handle(deps, tx, userAggregate, userId, { type: 'VerifyEmail', data: { verifiedHash, now } }, request, { loaded: before });
    const rejected = events.find((e) => e.type === 'EmailVerificationRejected');
    if (rejected) return { rejected: rejected.data.reason as 'INVALID_CODE' | 'FLOW_EXPIRED' };
    const newEmail = before.state.verification?.newEmail ?? null;
    let email = after.email!;
    if (newEmail && newEmail !== after.email) {
      await handle(deps, tx, emailClaimAggregate, deps.personalData.hashes.email(newEmail), { type: 'ClaimEmail', data: { userId, now } }, request);
      await handle(deps, tx, emailClaimAggregate, deps.personalData.hashes.email(after.email!), { type: 'ReleaseEmail', data: { userId, now } }, request);
      await handle(deps, tx, userAggregate, userId, { type: 'ChangeEmail', data: { email: newEmail, now } }, request);
      email = newEmail;
    }
    let session: IssuedSession | null = null;
    if (viaFlow && deps.config.emailVerification === 'mandatory' && !after.resetRequired && !after.assistedRecovery) {
      // The password was proven by the signup or login that opened this flow. With a second factor the next login
      // asks for it: a verification never skips the MFA step.
      const { state: factors } = await load(deps.store, authenticatorsAggregate, userId, tx);
      if (!hasSecondFactor(factors)) {
        session = await startSessionIn(deps, tx, { userId, aal: 1, methods: [{ method: 'password', at: now }], enrollOnly: false }, request);
      }
    }
    return { rejected: null, session, email };
  });
  if (outcome.rejected) throw new DomainError(outcome.rejected);
  await deps.attempts.refund(attempt.key, attempt.request.clientAddress);
  return { session: outcome.session, email: outcome.email };
}

/**
 * A new code for the open verification (or for an unverified address). Throttled per account (its own budget key) and
 * per address; answers the same whether or not anything was sent.
 */
export async function resendEmailVerification(deps: VerifyDeps, caller: Caller, request: RequestFacts): Promise<void> {
  if (deps.config.emailVerification === 'none') throw new DomainError('FEATURE_DISABLED');
  const { userId } = subjectOf(caller);
  await deps.attempts.consumeAddress(request.clientAddress);
  await deps.attempts.consume(userAccountKey(userId, 'email_verification'), request.clientAddress);
  const { state } = await load(deps.store, userAggregate, userId);
  if (!state.exists || state.deleted) return;
  const pendingChange = state.verification?.newEmail ?? null;
  if (state.emailVerified && !pendingChange) return;
  await deps.store.transactionWithRetry((tx) => requestEmailVerificationIn(deps, tx, userId, pendingChange, actingAs(request, userId)));
}

/** A fresh id for a flow that names no account. */
export const decoySubject = (): string => newId();
