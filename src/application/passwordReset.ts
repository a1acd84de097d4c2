// Password reset by email (issue 17): one request mails a code (15 minutes, 3 tries; allauth's
// ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED) and a link (24 hours); either resets once. Registered and unknown addresses
// get the same answer after the same work. A reset ends every session, pending login and device trust, notifies the
// user (PasswordReset), and never signs in: the next login asks for the second factor as before.
import { z } from 'zod';
import { deriveCode, deriveLinkSecret, matchesRecoveryHash, newNonce, recoveryHash } from '../crypto/recoveryTokens.js';
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { findUserByEmail } from '../projections/users.js';
import { unknownAccountKey } from '../security/attempts.js';
import { accountAttempt, unknownAttempt } from './attempts.js';
import type { Caller } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { revokeAllDeviceTrustIn } from './devices.js';
import { decoySubject, issueFlowToken } from './emailVerification.js';
import { abandonPendingLoginsIn } from './loginFlow.js';
import { actingAs, type RequestFacts } from './request.js';
import { revokeOtherSessionsIn, type IssuedToken } from './sessions.js';
import { assertPasswordPolicy } from './signup.js';
import { codeSchema, emailSchema, parseInput, passwordInputSchema } from './validation.js';

export const passwordResetCodeTtlSeconds = 15 * 60;
export const passwordResetLinkTtlSeconds = 24 * 3600;

type ResetDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'db' | 'attempts' | 'secrets' | 'passwords' | 'personalData'>;

/** A link key names its account and carries the secret: `<userId>.<secret>` (allauth's keys are `<uid>-<token>`). */
function parseLinkKey(key: string): { userId: string; secret: string } | null {
  const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(key.trim());
  return match ? { userId: match[1]!, secret: match[2]! } : null;
}

export function linkKeyOf(userId: string, secret: string): string {
  return `${userId}.${secret}`;
}

/**
 * Anyone may ask; the answer is a PASSWORD_RESET_BY_CODE flow whichever the address. Each request is an anonymous
 * write (the client address's budget) and draws from the email's own request budget, never given back, known or not:
 * the throttle per account and per client address answers registered and unknown addresses alike.
 */
export async function requestPasswordReset(deps: ResetDeps, input: { email: string }, request: RequestFacts): Promise<IssuedToken> {
  const { email } = parseInput(z.object({ email: emailSchema }), input);
  await deps.attempts.consumeAddress(request.clientAddress);
  // A key of its own, the same for registered and unknown addresses: a request says nothing about the address. (The
  // reset attempts themselves draw from the account's budget, or, for an unknown address, from the budget its failed
  // logins use: the same pairing as for logins, so no mix of the two tells them apart.)
  await deps.attempts.consume(unknownAccountKey(`password-reset:${email}`), request.clientAddress);
  const keys = deps.secrets.keys;
  const nonce = newNonce();
  const keyId = keys.currentKeyId;
  const user = await findUserByEmail(deps.db, deps.personalData.hashes.email(email));
  const subject = user?.user_id ?? decoySubject();
  // The derivations and hashes run for unknown addresses too, and so does a transaction reading a stream: the same work.
  const codeHash = recoveryHash(keys, 'password_reset', deriveCode(keys, 'password_reset', nonce, keyId), keyId);
  const keyHash = recoveryHash(keys, 'password_reset', linkKeyOf(subject, deriveLinkSecret(keys, 'password_reset', nonce, keyId)), keyId);
  const now = deps.clock.now();
  await deps.store.transactionWithRetry(async (tx) => {
    const loaded = await load(deps.store, userAggregate, subject, tx);
    if (!user || !loaded.state.exists || loaded.state.deleted) return;
    await handle(deps, tx, userAggregate, subject, {
      type: 'RequestPasswordReset',
      data: {
        nonce, keyId, codeHash, keyHash, now: now.toISOString(),
        codeExpiresAt: new Date(now.getTime() + passwordResetCodeTtlSeconds * 1000).toISOString(),
        keyExpiresAt: new Date(now.getTime() + passwordResetLinkTtlSeconds * 1000).toISOString(),
      },
    }, actingAs(request, 'anonymous'), { loaded });
  });
  return issueFlowToken(deps, 'password_reset', subject);
}

const resetInputSchema = z.object({
  email: emailSchema.optional(),
  code: codeSchema.optional(),
  key: z.string().max(200).optional(),
  newPassword: passwordInputSchema,
});

/**
 * Resets with the emailed code (and the address, or the caller's PASSWORD_RESET_BY_CODE flow) or with the link's key.
 * The attempt is drawn from the account's budget before the code is checked; a wrong code is recorded
 * (PasswordResetRejected). Of concurrent submissions of one code exactly one commits: the others re-decide on the
 * stream the winner appended to, where the request is used up.
 */
export async function resetPassword(deps: ResetDeps, caller: Caller, input: unknown, request: RequestFacts): Promise<void> {
  const parsed = parseInput(resetInputSchema, input);
  assertPasswordPolicy(parsed.newPassword, 'newPassword');
  let via: 'code' | 'link';
  let userId: string | null;
  let budgetName: string;
  if (parsed.key !== undefined) {
    via = 'link';
    const link = parseLinkKey(parsed.key);
    userId = link?.userId ?? null;
    budgetName = `reset-key:${parsed.key.slice(0, 36)}`;
  } else if (parsed.code !== undefined) {
    via = 'code';
    if (parsed.email !== undefined) {
      userId = (await findUserByEmail(deps.db, deps.personalData.hashes.email(parsed.email)))?.user_id ?? null;
      budgetName = parsed.email;
    } else if (caller.kind === 'flow' && caller.flow.flow === 'password_reset') {
      userId = caller.flow.subject;
      budgetName = `reset-flow:${caller.flow.subject}`;
    } else {
      throw new DomainError('VALIDATION_FAILED', 'email: is required with a code', { field: 'email' });
    }
  } else {
    throw new DomainError('VALIDATION_FAILED', 'code: a code or a key is required', { field: 'code' });
  }
  const invalid = via === 'link' ? 'INVALID_KEY' : 'INVALID_CODE';
  const { state } = userId ? await load(deps.store, userAggregate, userId) : { state: null };
  const known = Boolean(state?.exists && !state.deleted);
  const attempt = known ? await accountAttempt(deps, userId!, request) : unknownAttempt(budgetName, request);
  await deps.attempts.consume(attempt.key, request.clientAddress);
  const open = known ? state!.passwordReset : null;
  const presented = via === 'link' ? parsed.key!.trim() : parsed.code!;
  const stored = via === 'link' ? open?.keyHash : open?.codeHash;
  // Checked against a hash for unknown accounts too (one that matches nothing): the same work either way.
  const matches = matchesRecoveryHash(deps.secrets.keys, 'password_reset', presented, stored ?? '0'.repeat(64), open?.keyId);
  if (!known) throw new DomainError(invalid);
  const verifiedHash = matches && stored ? stored : null;
  const passwordHash = verifiedHash ? await deps.passwords.hash(parsed.newPassword) : '';
  const asOwner = actingAs(attempt.request, userId!);
  const rejected = await deps.store.transactionWithRetry(async (tx) => {
    const { events } = await handle(deps, tx, userAggregate, userId!, { type: 'ResetPassword', data: { via, verifiedHash, passwordHash, now: deps.clock.now().toISOString() } }, asOwner);
    const rejection = events.find((e) => e.type === 'PasswordResetRejected');
    if (rejection) return rejection.data.reason as 'INVALID_CODE' | 'FLOW_EXPIRED';
    // Whoever had a session, a pending MFA step or a trusted browser keeps none of them.
    await abandonPendingLoginsIn(deps, tx, userId!, asOwner);
    await revokeAllDeviceTrustIn(deps, tx, userId!, 'password_reset', asOwner);
    await revokeOtherSessionsIn(deps, tx, userId!, null, 'password_reset', asOwner);
    return null;
  });
  if (rejected === 'INVALID_CODE') throw new DomainError(invalid);
  if (rejected) throw new DomainError(via === 'link' ? 'INVALID_KEY' : 'FLOW_EXPIRED');
  await deps.attempts.refund(attempt.key, request.clientAddress);
}
