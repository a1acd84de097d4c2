// Email one-time codes as a second factor (issue 18; off unless MFA_SUPPORTED_TYPES lists `email`). The weaker factor:
// NIST SP 800-63B does not accept email as an out-of-band authenticator, so a login completed with one is AAL1 (methods
// `password` and `email`), never satisfies MFA_REQUIRED_ROLES or an AAL2 field, and is refused right after a password
// reset by email (the same mailbox would be both factors).
//
// A code: 6–8 digits from the CSPRNG (EMAIL_CODE_DIGITS), stored only as an HMAC under a key derived from the server's
// secret keys, valid 10 minutes (the injected clock), single use (the use commits at the stream's expected version, so
// of concurrent submissions one wins and the rest re-read and find it used), resending throttled
// (EMAIL_CODE_RESEND_SECONDS), and every check draws from the account's attempt budget like a TOTP code.
import type { Queryable } from '../db/index.js';
import { EMAIL_CODE_KEY_PURPOSE, emailCodeMatches, generateEmailCode, hashEmailCode, normalizeEmailCode } from '../crypto/emailCodes.js';
import { newId } from '../crypto/tokens.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { emailCodeTtlSeconds } from '../domain/authenticators/decideEmailCode.js';
import { emailCodeRefusedAfterReset } from '../domain/authenticators/policy.js';
import type { AuthenticatorsState, EmailCodeState } from '../domain/authenticators/state.js';
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { accountAttempt, spendAttempt } from './attempts.js';
import { requireMayAddFactor, requirePendingLogin, requireSensitiveChange, requireSupportedFactor } from './authorization.js';
import type { Caller } from './caller.js';
import { handle, load, loadAhead, type Loaded } from './commandHandler.js';
import type { Deps } from './deps.js';
import { revokeAllDeviceTrustIn } from './devices.js';
import { assertPendingFlowOpen } from './loginFlow.js';
import type { RequestFacts } from './request.js';
import type { CodeDelivery } from './codeDelivery.js';
import { codeInputSchema } from './totpEnrollment.js';
import { parseInput } from './validation.js';

export type { CodeDelivery, CodeMessage } from './codeDelivery.js';

type EmailCodeDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'secrets' | 'codeDelivery'>;

export interface IssuedEmailCode {
  expiresAt: Date;
  /** When another code may be asked for. */
  resendAfterSeconds: number;
}

/** Issues a code of `purpose` in `tx` and queues its delivery there: both commit, or neither. */
async function issueIn(
  deps: EmailCodeDeps, tx: Queryable, userId: string, target: { purpose: 'enroll'; sessionId: string } | { purpose: 'login'; flowId: string }, request: RequestFacts,
): Promise<IssuedEmailCode> {
  const now = deps.clock.now();
  const code = generateEmailCode(deps.config.emailCode.digits);
  const codeId = newId();
  const keyId = deps.secrets.keys.currentKeyId;
  const codeHash = hashEmailCode(deps.secrets.keys.deriveKey(EMAIL_CODE_KEY_PURPOSE, keyId), codeId, code);
  const expiresAt = new Date(now.getTime() + emailCodeTtlSeconds * 1000);
  await handle(deps, tx, authenticatorsAggregate, userId, {
    type: 'IssueEmailCode',
    data: {
      userId, codeId, purpose: target.purpose, codeHash, keyId,
      flowId: target.purpose === 'login' ? target.flowId : null, sessionId: target.purpose === 'enroll' ? target.sessionId : null,
      expiresAt: expiresAt.toISOString(), resendAfterSeconds: deps.config.emailCode.resendSeconds, now: now.toISOString(),
    },
  }, request);
  const [issued] = await tx.query<{ position: string }>(
    `select position::text from events where stream_id = $1 and type = 'EmailCodeIssued' order by position desc limit 1`, [authenticatorsAggregate.streamId(userId)],
  );
  await deps.codeDelivery.send(tx, { userId, code, purpose: target.purpose, expiresAt, causePosition: Number(issued!.position), correlationId: request.requestId || undefined });
  return { expiresAt, resendAfterSeconds: deps.config.emailCode.resendSeconds };
}

/** The id of the code `input` matches (checked against the stored hash under its own key id), or null. */
function matchEmailCode(deps: Pick<Deps, 'secrets'>, code: EmailCodeState | null, input: string): string | null {
  const normalized = normalizeEmailCode(input);
  if (!code || normalized === null) return null;
  return emailCodeMatches(deps.secrets.keys.deriveKey(EMAIL_CODE_KEY_PURPOSE, code.keyId), code.codeId, normalized, code.codeHash) ? code.codeId : null;
}

/** beginEmailCodeEnrollment: a code to the account's address; activateEmailCode proves the address with it. */
export async function beginEmailCodeEnrollment(deps: EmailCodeDeps, caller: Caller, request: RequestFacts): Promise<IssuedEmailCode> {
  requireSupportedFactor(deps, 'email');
  const auth = await requireMayAddFactor(deps, caller);
  return deps.store.transactionWithRetry((tx) => issueIn(deps, tx, auth.user.id, { purpose: 'enroll', sessionId: auth.session.id }, request));
}

/** activateEmailCode: draws an attempt; the right code from the session that asked activates the factor (AAL stays). */
export async function activateEmailCode(deps: EmailCodeDeps & Pick<Deps, 'attempts' | 'db'>, caller: Caller, input: unknown, request: RequestFacts): Promise<AuthenticatorsState> {
  requireSupportedFactor(deps, 'email');
  const auth = await requireMayAddFactor(deps, caller);
  const userId = auth.user.id;
  const attempt = await accountAttempt(deps, userId, request);
  const outcome = await spendAttempt(deps, attempt, (request) => {
    const { code } = parseInput(codeInputSchema, input);
    return deps.store.transactionWithRetry(async (tx) => {
      const loaded = await load(deps.store, authenticatorsAggregate, userId, tx);
      const matchedCodeId = matchEmailCode(deps, loaded.state.email.enrollCode, code);
      const { state, events } = await handle(deps, tx, authenticatorsAggregate, userId, {
        type: 'ActivateEmailCode', data: { userId, sessionId: auth.session.id, matchedCodeId, now: deps.clock.now().toISOString() },
      }, request, { loaded });
      const first = events[0];
      return first?.type === 'EmailCodeRejected' ? { ok: false as const, reason: first.data.reason } : { ok: true as const, state };
    });
  }, (r) => r.ok);
  if (!outcome.ok) throw new DomainError(outcome.reason);
  return outcome.state;
}

/** removeEmailCode: a sensitive change like removing any factor; every device's trust goes with it. */
export async function removeEmailCode(deps: EmailCodeDeps, caller: Caller, request: RequestFacts): Promise<AuthenticatorsState> {
  const userId = (await requireSensitiveChange(deps, caller)).user.id;
  const { state } = await deps.store.transactionWithRetry(async (tx) => {
    const handled = await handle(deps, tx, authenticatorsAggregate, userId, { type: 'RemoveEmailCode', data: { userId, now: deps.clock.now().toISOString() } }, request);
    await revokeAllDeviceTrustIn(deps, tx, userId, 'factor_removed', request);
    return handled;
  });
  return state;
}

/** Whether an email code may be this user's second factor now (not right after a password reset by email). */
async function refusedAfterReset(deps: Pick<Deps, 'store'>, userId: string, authenticators: AuthenticatorsState, tx?: Queryable): Promise<boolean> {
  const { state: user } = await load(deps.store, userAggregate, userId, tx);
  return emailCodeRefusedAfterReset(user.lastEmailResetAt, authenticators);
}

/** requestEmailCode: during the MFA step of a pending login, a code for that login (then given to authenticateMfa). */
export async function requestEmailCode(deps: EmailCodeDeps, caller: Caller, request: RequestFacts): Promise<IssuedEmailCode> {
  const { flow } = requirePendingLogin(caller);
  await assertPendingFlowOpen(deps, flow, request);
  return deps.store.transactionWithRetry(async (tx) => {
    // The factors and the account (its last reset by email), read in one statement.
    await loadAhead(deps, tx, [{ aggregate: authenticatorsAggregate, id: flow.userId }, { aggregate: userAggregate, id: flow.userId }]);
    const { state } = await load(deps.store, authenticatorsAggregate, flow.userId, tx);
    if (await refusedAfterReset(deps, flow.userId, state, tx)) throw new DomainError('FACTOR_NOT_ALLOWED');
    return issueIn(deps, tx, flow.userId, { purpose: 'login', flowId: flow.flowId }, request);
  });
}

/**
 * The MFA step's email branch, in the transaction that also finishes the login: whether `code` is meant as an email
 * code (a login code is waiting for this flow and it matches, or the user has no TOTP to try it as), and if so its
 * decision. Null: not an email code; the TOTP and recovery-code paths take it.
 */
export async function useEmailCodeIn(
  deps: Pick<Deps, 'store' | 'clock' | 'secrets'>, tx: Queryable, loaded: Loaded<AuthenticatorsState>, userId: string, flowId: string, code: string, request: RequestFacts,
): Promise<{ accepted: boolean; reason: string } | null> {
  const { state } = loaded;
  const waiting = state.email.status === 'active' && state.email.loginCode?.flowId === flowId ? state.email.loginCode : null;
  if (!waiting) return null;
  const matchedCodeId = matchEmailCode(deps, waiting, code);
  if (matchedCodeId === null && state.totp.status === 'active' && normalizeEmailCode(code) !== null) return null;
  if (matchedCodeId === null && normalizeEmailCode(code) === null) return null;
  const refused = await refusedAfterReset(deps, userId, state, tx);
  const { events } = await handle(deps, tx, authenticatorsAggregate, userId, {
    type: 'AuthenticateEmailCode', data: { userId, flowId, matchedCodeId, refused, now: deps.clock.now().toISOString() },
  }, request, { loaded });
  const first = events[0];
  return first?.type === 'EmailCodeAccepted' ? { accepted: true, reason: '' } : { accepted: false, reason: first?.type === 'EmailCodeRejected' ? first.data.reason : 'INVALID_CODE' };
}
