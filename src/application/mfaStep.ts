// A TOTP or recovery code as the MFA step of a pending login, or as step-up of a session (mfaReauthenticate). One
// attempt is drawn before the input is even parsed (a malformed guess still counts); the code is matched inside the
// transaction on the authenticators state read there, and the factor's use (or its rejection) commits with what it
// completes (the login's session, the session's reauthentication) at the stream's expected version, so two
// submissions of one code cannot both succeed: the loser re-reads, decides again and finds the replay. Errors are
// answered only after the transaction that recorded the failure has committed.
import type { Queryable } from '../db/index.js';
import { matchTotpStep } from '../crypto/totp.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { loginAggregate } from '../domain/login/aggregate.js';
import type { MfaPurpose } from '../domain/authenticators/commands.js';
import type { AuthenticatorsState } from '../domain/authenticators/state.js';
import { DomainError, type ErrorCode } from '../domain/shared/errors.js';
import { accountAttempt, pendingLoginAttempt, spendAttempt } from './attempts.js';
import { requirePendingLogin, requireSession } from './authorization.js';
import { mfaStepStreams, type Caller } from './caller.js';
import { handle, load, loadAhead } from './commandHandler.js';
import type { Deps } from './deps.js';
import { useEmailCodeIn } from './emailCodes.js';
import { factorLoginAppends } from './appendCounts.js';
import { assertPendingFlowOpen, finishMfaStepIn } from './loginFlow.js';
import { matchRecoveryCode } from './recoveryCodes.js';
import { inLoginFlow, type RequestFacts } from './request.js';
import { reauthenticateSessionIn, type IssuedSession, type IssuedToken } from './sessions.js';
import { codeInputSchema, totpAad } from './totpEnrollment.js';
import { parseInput } from './validation.js';

type MfaDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'secrets' | 'attempts' | 'db'>;

/** How a submitted code is read: six ASCII digits (or any short digit string) is a TOTP attempt, anything else a recovery code. */
export function mfaCodeKind(code: string, state: AuthenticatorsState): 'totp' | 'recovery_code' {
  // A user without TOTP who types digits is answered by the recovery-code path, so the failure is still recorded.
  return /^[0-9]{0,8}$/.test(code) && state.totp.status === 'active' ? 'totp' : 'recovery_code';
}

interface CodeOutcome {
  method: 'totp' | 'recovery_code' | 'email';
  accepted: boolean;
  reason: ErrorCode;
}

/**
 * Matches the code against the state read in `tx` and appends its use or its rejection there. `flowId`: the pending
 * login, whose email code (if one was asked for) is tried first; step-up never takes an email code.
 */
async function useCodeIn(deps: MfaDeps, tx: Queryable, userId: string, code: string, purpose: MfaPurpose, request: RequestFacts, flowId?: string): Promise<CodeOutcome> {
  const loaded = await load(deps.store, authenticatorsAggregate, userId, tx);
  const { state } = loaded;
  const now = deps.clock.now();
  if (flowId !== undefined) {
    const email = await useEmailCodeIn(deps, tx, loaded, userId, flowId, code, request);
    if (email) return { method: 'email', accepted: email.accepted, reason: (email.reason || 'INVALID_CODE') as ErrorCode };
  }
  const method = mfaCodeKind(code, state);
  let events;
  if (method === 'totp') {
    const verifiedCiphertext = state.totp.secretCiphertext!;
    const secret = deps.secrets.box.open(verifiedCiphertext, totpAad(userId));
    const matchedStep = await matchTotpStep({ secret, code, nowMs: now.getTime(), window: deps.config.totpWindow });
    ({ events } = await handle(deps, tx, authenticatorsAggregate, userId, {
      type: 'AuthenticateTotp', data: { userId, verifiedCiphertext, matchedStep, purpose, now: now.toISOString() },
    }, request, { loaded }));
  } else {
    const match = matchRecoveryCode(deps, state, code);
    ({ events } = await handle(deps, tx, authenticatorsAggregate, userId, {
      type: 'UseRecoveryCode', data: { userId, setId: match.setId, matchedIndex: match.index, purpose, now: now.toISOString() },
    }, request, { loaded }));
  }
  const first = events[0];
  const accepted = first?.type === 'TotpCodeAccepted' || first?.type === 'RecoveryCodeUsed';
  const reason: ErrorCode = first && 'reason' in first.data ? (first.data.reason as ErrorCode) : 'INVALID_CODE';
  return { method, accepted, reason };
}

/** AuthenticateMfa with a code: success ends the pending login with an AAL2 session. */
export async function completeMfaStepWithCode(deps: MfaDeps, caller: Caller, input: unknown, request: RequestFacts): Promise<IssuedSession> {
  const pending = requirePendingLogin(caller);
  const { flow } = pending;
  request = inLoginFlow(request, flow.flowId);
  await assertPendingFlowOpen(deps, flow, request);
  const attempt = await pendingLoginAttempt(deps, pending, request);
  const { outcome, session } = await spendAttempt(deps, attempt, (request) => {
    const { code } = parseInput(codeInputSchema, input);
    return deps.store.transactionWithRetry(async (tx) => {
      // Read with the caller's token (the first round only: a retry after a lost race reads again), else here.
      if (!(await deps.store.adoptReadAhead(tx, pending.readAhead, mfaStepStreams(flow)))) {
        deps.store.drawAhead(tx, factorLoginAppends(request));
        await loadAhead(deps, tx, [{ aggregate: authenticatorsAggregate, id: flow.userId }, { aggregate: loginAggregate, id: flow.flowId }]);
      }
      const outcome = await useCodeIn(deps, tx, flow.userId, code, 'login', request, flow.flowId);
      const session = await finishMfaStepIn(deps, tx, flow.flowId, outcome.method, outcome.accepted ? { accepted: true } : { accepted: false, reason: outcome.reason }, request);
      return { outcome, session };
    });
  }, (r) => r.outcome.accepted);
  if (!outcome.accepted) throw new DomainError(outcome.reason);
  if (!session) throw new DomainError('FLOW_EXPIRED');
  return session;
}

/** mfaReauthenticate: a code proves the user again; the session gets a new token and AAL2 from now on. */
export async function reauthenticateWithCode(deps: MfaDeps, caller: Caller, input: unknown, request: RequestFacts): Promise<IssuedToken> {
  const auth = requireSession(caller);
  const attempt = await accountAttempt(deps, auth.user.id, request);
  const { outcome, token } = await spendAttempt(deps, attempt, (request) => {
    const { code } = parseInput(codeInputSchema, input);
    return deps.store.transactionWithRetry(async (tx) => {
      const outcome = await useCodeIn(deps, tx, auth.user.id, code, 'reauthentication', request);
      const token = outcome.accepted ? await reauthenticateSessionIn(deps, tx, auth.session.id, outcome.method, 2, request) : null;
      return { outcome, token };
    });
  }, (r) => r.outcome.accepted);
  if (!outcome.accepted || !token) throw new DomainError(outcome.reason);
  return token;
}
