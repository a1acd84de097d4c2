// The login stream's steps that several use cases share: closing a pending flow's MFA step in the transaction that
// records the factor's use, closing an expired flow, abandoning one, and the one-step passkey login.
import type { Queryable } from '../db/index.js';
import { newId } from '../crypto/tokens.js';
import { loginAggregate } from '../domain/login/aggregate.js';
import type { LoginMethod } from '../domain/login/events.js';
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { findPendingFlowIdsOfUser } from '../projections/loginFlows.js';
import type { PendingLoginView } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps, WriteDeps } from './deps.js';
import { startSessionIn, type IssuedSession } from './sessions.js';
import { actingAs, type RequestFacts } from './request.js';

type FlowDeps = WriteDeps & Pick<Deps, 'config'>;

export type MfaStepOutcome = { accepted: true } | { accepted: false; reason: string };

/**
 * The end of the MFA step, inside the transaction that also records the factor's use (TotpCodeAccepted,
 * RecoveryCodeUsed, WebAuthnAssertionAccepted): either the factor is consumed and the session starts, or neither.
 * A failed factor is recorded as MfaFailed; an expired flow as LoginExpired. Null: no session.
 */
export async function finishMfaStepIn(
  deps: FlowDeps, tx: Queryable, flowId: string, method: LoginMethod, outcome: MfaStepOutcome, request: RequestFacts,
): Promise<IssuedSession | null> {
  const sessionId = newId();
  const { state } = await handle(deps, tx, loginAggregate, flowId, {
    type: 'AuthenticateMfa', data: { method, outcome, sessionId, now: deps.clock.now().toISOString() },
  }, request);
  if (state.status !== 'completed') return null;
  return startSessionIn(deps, tx, { userId: state.userId!, aal: state.aal, methods: state.methods, enrollOnly: false, sessionId, flowId, offerTrust: state.aal === 2 }, request);
}

/**
 * Before any factor is verified: the pending flow can still take an MFA answer. The caller's flow row was read this
 * request, so while its expiry is in the future the stream need not be read (the transaction finishing the step
 * decides on the stream again); an expired one is closed with LoginExpired and answers FLOW_EXPIRED.
 */
export async function assertPendingFlowOpen(deps: FlowDeps, flow: Pick<PendingLoginView, 'flowId' | 'expiresAt'>, request: RequestFacts): Promise<void> {
  if (deps.clock.now().getTime() < flow.expiresAt.getTime()) return;
  const { state } = await load(deps.store, loginAggregate, flow.flowId);
  if (state.status === 'expired') throw new DomainError('FLOW_EXPIRED');
  if (state.status !== 'mfa_pending') throw new DomainError('FLOW_NOT_PENDING');
  await deps.store.transactionWithRetry((tx) => finishMfaStepIn(deps, tx, flow.flowId, 'password', { accepted: false, reason: 'expired' }, request));
  throw new DomainError('FLOW_EXPIRED');
}

export async function abandonLogin(deps: WriteDeps, flowId: string, request: RequestFacts): Promise<void> {
  await deps.store.transactionWithRetry((tx) => handle(deps, tx, loginAggregate, flowId, { type: 'AbandonLogin', data: { now: deps.clock.now().toISOString() } }, request));
}

/** Ends every pending (pre-MFA) login of a user, in the caller's transaction: a password change or a deletion. */
export async function abandonPendingLoginsIn(deps: WriteDeps, tx: Queryable, userId: string, request: RequestFacts): Promise<void> {
  for (const flowId of await findPendingFlowIdsOfUser(tx, userId)) {
    await handle(deps, tx, loginAggregate, flowId, { type: 'AbandonLogin', data: { now: deps.clock.now().toISOString() } }, request);
  }
}

/**
 * LoginWithPasskey's end, inside the transaction that records the assertion (WebAuthnAssertionAccepted): a new flow
 * that starts and completes at once (LoginStarted method passkey, LoginCompleted aal 2), and its AAL2 session.
 */
export async function completePasskeyLoginIn(deps: FlowDeps, tx: Queryable, userId: string, request: RequestFacts): Promise<IssuedSession> {
  // After "this wasn't me" a passkey opens nothing until the password is reset (and an account in assisted recovery
  // nothing at all): refused here, so the assertion's acceptance rolls back with it.
  const { state: user } = await load(deps.store, userAggregate, userId, tx);
  if (user.assistedRecovery) throw new DomainError('ACCOUNT_LOCKED');
  if (user.resetRequired) throw new DomainError('PASSWORD_RESET_REQUIRED');
  const flowId = newId();
  const sessionId = newId();
  const asUser = actingAs(request, userId);
  const { state } = await handle(deps, tx, loginAggregate, flowId, { type: 'StartPasskeyLogin', data: { flowId, userId, sessionId, now: deps.clock.now().toISOString() } }, asUser, { isNew: true });
  return startSessionIn(deps, tx, { userId, aal: 2, methods: state.methods, enrollOnly: false, sessionId, flowId }, asUser);
}
