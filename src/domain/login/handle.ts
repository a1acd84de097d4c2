// StartLogin and the end of the MFA step: the login stream and the session it earns commit in one transaction.
import type { Queryable } from '../../db/index.js';
import type { App } from '../../app.js';
import { hashToken, newId, newSessionToken } from '../../crypto/tokens.js';
import { findUserByEmail } from '../../projections/users.js';
import { accountKeyFor } from '../../security/attempts.js';
import { loadAggregate, retryOnConflict, streams } from '../shared/streams.js';
import { DomainError } from '../shared/errors.js';
import type { RequestInfo } from '../shared/request.js';
import { availableFactorTypes, evolveAuthenticators, hasSecondFactor, initialAuthenticatorsState } from '../authenticators/state.js';
import { executeUser, loadUser } from '../user/handle.js';
import { mfaRequirement } from '../user/policy.js';
import { startSessionIn, type IssuedSession } from '../session/handle.js';
import type { LoginCommand } from './commands.js';
import { decideLogin } from './decide.js';
import type { LoginMethod } from './events.js';
import { evolveLogin, initialLoginState, type LoginState } from './state.js';

export type LoginOutcome =
  | { kind: 'session'; session: IssuedSession; userId: string; mfaDeadline: Date | null; enrollOnly: boolean }
  | { kind: 'mfa_pending'; token: string; flowId: string; userId: string; types: string[]; expiresAt: Date };

export function loadLogin(app: App, flowId: string, tx?: Queryable) {
  return loadAggregate(app.store, streams.login(flowId), initialLoginState, evolveLogin, tx);
}

export function loadAuthenticators(app: App, userId: string, tx?: Queryable) {
  return loadAggregate(app.store, streams.authenticators(userId), initialAuthenticatorsState, evolveAuthenticators, tx);
}

async function executeLogin(app: App, tx: Queryable, flowId: string, command: LoginCommand, request: RequestInfo): Promise<LoginState> {
  // A login starts on a flow id minted for it: there is nothing to read (append at version 0 refuses an existing stream).
  const starts = command.type === 'StartLogin' || command.type === 'StartPasskeyLogin';
  const { state, version } = starts ? { state: initialLoginState, version: 0 } : await loadLogin(app, flowId, tx);
  const events = decideLogin(command, state);
  if (events.length > 0) await app.store.append(streams.login(flowId), events, { expectedVersion: version, metadata: request.metadata, now: app.clock.now(), tx });
  return events.reduce(evolveLogin, state);
}

/**
 * Password login. An unknown email verifies a dummy hash and answers exactly like a wrong password, so neither the
 * answer nor its cost tells an attacker which emails exist. Every rejection is an event (PasswordRejected).
 */
export async function startPasswordLogin(app: App, input: { email: string; password: string }, request: RequestInfo): Promise<LoginOutcome> {
  const userRow = await findUserByEmail(app.db, input.email);
  const userId = userRow?.user_id ?? null;
  // Reads run beside the budget check and the hash instead of after them: a login's latency is the hash and little
  // else. Nothing is verified before the budget has said yes; the reads reveal nothing to the caller.
  const [, loadedUser] = await Promise.all([
    app.attempts.consume(accountKeyFor(userId, input.email)),
    userId ? loadUser(app, userId) : Promise.resolve(null),
  ]);
  const user = loadedUser?.state ?? null;
  const factors = userId ? loadAuthenticators(app, userId) : null;
  factors?.catch(() => {}); // awaited below only on success; a failed read must not go unhandled meanwhile
  const verification = user?.passwordHash
    ? await app.passwords.verify(user.passwordHash, input.password)
    : { valid: await app.passwords.verifyDummy(input.password), needsRehash: false };
  const upgradedHash = verification.valid && verification.needsRehash ? await app.passwords.hash(input.password) : null;
  const flowId = newId();
  const now = app.clock.now();
  const metadata = { ...request.metadata, actor: userId ?? 'anonymous' };
  const requestWithActor = { ...request, metadata };
  if (!verification.valid || !user || !userId) {
    await app.store.transaction((tx) =>
      executeLogin(app, tx, flowId, startCommand({ flowId, userId, passwordValid: false, factorTypes: [], now, app }), requestWithActor),
    );
    throw new DomainError('INVALID_CREDENTIALS');
  }
  await app.attempts.refund(accountKeyFor(userId, input.email));
  const authenticators = (await factors!).state;
  const factorTypes = availableFactorTypes(authenticators);
  const requirement = mfaRequirement(user, hasSecondFactor(authenticators), now, app.config.adminMfaGraceSeconds);
  const pendingToken = newSessionToken();
  return retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const command = startCommand({ flowId, userId, passwordValid: true, factorTypes, now, app, pendingTokenHash: hashToken(pendingToken) });
      const state = await executeLogin(app, tx, flowId, command, requestWithActor);
      if (upgradedHash) await executeUser(app, tx, userId, { type: 'UpgradePasswordHash', data: { passwordHash: upgradedHash, now: now.toISOString() } }, requestWithActor);
      if (state.status === 'mfa_pending') {
        return { kind: 'mfa_pending' as const, token: pendingToken, flowId, userId, types: factorTypes, expiresAt: new Date(state.expiresAt!) };
      }
      const session = await startSessionIn(app, tx, { userId, aal: 1, methods: state.methods, enrollOnly: requirement.enrollOnly, sessionId: command.data.sessionId }, requestWithActor);
      return { kind: 'session' as const, session, userId, mfaDeadline: requirement.deadline, enrollOnly: requirement.enrollOnly };
    }),
  );
}

function startCommand(input: { flowId: string; userId: string | null; passwordValid: boolean; factorTypes: string[]; now: Date; app: App; pendingTokenHash?: string }): Extract<LoginCommand, { type: 'StartLogin' }> {
  return {
    type: 'StartLogin',
    data: {
      flowId: input.flowId, userId: input.userId, method: 'password', passwordValid: input.passwordValid, factorTypes: input.factorTypes,
      pendingTokenHash: input.pendingTokenHash ?? '', sessionId: newId(), aal: 1, now: input.now.toISOString(),
      expiresAt: new Date(input.now.getTime() + input.app.config.loginFlowTtlSeconds * 1000).toISOString(),
    },
  };
}

/**
 * The end of the MFA step, inside the transaction that also records the factor's use (TotpCodeAccepted,
 * RecoveryCodeUsed, WebAuthnAssertionAccepted): either the factor is consumed and the session starts, or neither.
 * A failed factor is recorded as MfaFailed. An expired flow writes LoginExpired and answers FLOW_EXPIRED.
 */
export async function finishMfaStepIn(
  app: App,
  tx: Queryable,
  flowId: string,
  method: LoginMethod,
  outcome: { accepted: true } | { accepted: false; reason: string },
  request: RequestInfo,
): Promise<IssuedSession | null> {
  const sessionId = newId();
  const state = await executeLogin(app, tx, flowId, {
    type: 'AuthenticateMfa',
    data: { method, outcome, sessionId, now: app.clock.now().toISOString() },
  }, request);
  if (state.status === 'expired') return null;
  if (state.status !== 'completed') return null;
  return startSessionIn(app, tx, { userId: state.userId!, aal: 2, methods: state.methods, enrollOnly: false, sessionId }, request);
}

/** Checks, before any factor is verified, that the flow can still take an MFA answer; closes it when expired. */
export async function assertFlowOpen(app: App, flowId: string, request: RequestInfo): Promise<LoginState> {
  const { state } = await loadLogin(app, flowId);
  if (state.status === 'expired') throw new DomainError('FLOW_EXPIRED');
  if (state.status !== 'mfa_pending') throw new DomainError('FLOW_NOT_PENDING');
  if (app.clock.now().toISOString() >= state.expiresAt!) {
    await retryOnConflict(() =>
      app.store.transaction((tx) => executeLogin(app, tx, flowId, { type: 'AuthenticateMfa', data: { method: 'password', outcome: { accepted: false, reason: 'expired' }, sessionId: '', now: app.clock.now().toISOString() } }, request)),
    );
    throw new DomainError('FLOW_EXPIRED');
  }
  return state;
}

/**
 * The same check for a request that carries the pending login: resolveAuth read the flow's row this request, so while
 * its expiry is in the future the stream need not be read here (the transaction finishing the step decides on the
 * stream again); an expired flow is closed as in assertFlowOpen.
 */
export async function assertPendingFlowOpen(app: App, flow: { flowId: string; expiresAt: Date }, request: RequestInfo): Promise<void> {
  if (app.clock.now().getTime() < flow.expiresAt.getTime()) return;
  await assertFlowOpen(app, flow.flowId, request);
}

export async function abandonLogin(app: App, flowId: string, request: RequestInfo): Promise<void> {
  await retryOnConflict(() => app.store.transaction((tx) => executeLogin(app, tx, flowId, { type: 'AbandonLogin', data: { now: app.clock.now().toISOString() } }, request)));
}

/**
 * LoginWithPasskey's end, inside the transaction that records the assertion (WebAuthnAssertionAccepted): a new flow
 * that starts and completes at once (LoginStarted method passkey, LoginCompleted aal 2), and its AAL2 session.
 */
export async function completePasskeyLoginIn(app: App, tx: Queryable, userId: string, request: RequestInfo): Promise<IssuedSession> {
  const flowId = newId();
  const sessionId = newId();
  const metadata = { ...request.metadata, actor: userId };
  const state = await executeLogin(app, tx, flowId, { type: 'StartPasskeyLogin', data: { flowId, userId, sessionId, now: app.clock.now().toISOString() } }, { ...request, metadata });
  return startSessionIn(app, tx, { userId, aal: 2, methods: state.methods, enrollOnly: false, sessionId }, { ...request, metadata });
}
