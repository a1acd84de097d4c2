// Sessions: starting one inside the transaction that earned it, rotating and reauthenticating it, ending it, and the
// caller's own list. A session's token is never stored: only its SHA-256, in events and in the sessions projection.
import type { Queryable } from '../db/index.js';
import { hashToken, newId, newSessionToken } from '../crypto/tokens.js';
import { deviceAggregate } from '../domain/device/aggregate.js';
import { deviceName } from '../domain/device/name.js';
import { sessionAggregate } from '../domain/session/aggregate.js';
import type { SessionRevoked, SessionMethod } from '../domain/session/events.js';
import { listActiveSessions, type SessionRow } from '../projections/sessions.js';
import { requireSession } from './authorization.js';
import type { Caller } from './caller.js';
import { handle } from './commandHandler.js';
import type { Deps, WriteDeps } from './deps.js';
import { seesDevice } from './appendCounts.js';
import type { RequestFacts } from './request.js';

/** A token handed to the client (cookie or bearer), and how long it is worth keeping. */
export interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

export interface IssuedSession extends IssuedToken {
  sessionId: string;
  aal: 1 | 2;
}

type SessionDeps = WriteDeps & Pick<Deps, 'config'>;
export type RevokeReason = SessionRevoked['data']['reason'];

/**
 * Starts a session inside the caller's transaction (the login that earned it commits with it). A full session is a
 * completed login: its device becomes known to the account (DeviceSeen, the first time), and, after an MFA step with
 * device trust enabled (`offerTrust`), the session is asked MFA_TRUST.
 */
export async function startSessionIn(
  deps: SessionDeps,
  tx: Queryable,
  input: { userId: string; aal: 1 | 2; methods: SessionMethod[]; enrollOnly: boolean; sessionId?: string; flowId?: string; offerTrust?: boolean },
  request: RequestFacts,
): Promise<IssuedSession> {
  const sessionId = input.sessionId ?? newId();
  const token = newSessionToken();
  const now = deps.clock.now().toISOString();
  const deviceId = request.deviceId ?? null;
  if (deviceId && seesDevice(request, input.enrollOnly)) {
    await handle(deps, tx, deviceAggregate, deviceId, { type: 'SeeDevice', data: { deviceId, userId: input.userId, name: deviceName(request.userAgent), now } }, request);
  }
  await handle(deps, tx, sessionAggregate, sessionId, {
    type: 'StartSession',
    data: {
      sessionId, userId: input.userId, tokenHash: hashToken(token), aal: input.aal, methods: input.methods,
      ip: request.clientAddress, userAgent: request.userAgent, deviceId, enrollOnly: input.enrollOnly, flowId: input.flowId ?? null,
      mfaTrustOffered: Boolean(input.offerTrust && deps.config.mfaTrust.enabled && deviceId), now,
    },
  }, request, { isNew: true });
  return { sessionId, token, aal: input.aal, expiresInSeconds: deps.config.sessionAbsoluteTimeoutSeconds };
}

/** Reauthentication proves the user again: the session gets a new token and a fresh reauthentication time. */
export async function reauthenticateSessionIn(
  deps: SessionDeps, tx: Queryable, sessionId: string, method: SessionMethod['method'], aal: 1 | 2, request: RequestFacts,
): Promise<IssuedToken> {
  const token = newSessionToken();
  await handle(deps, tx, sessionAggregate, sessionId, { type: 'Reauthenticate', data: { method, tokenHash: hashToken(token), aal, now: deps.clock.now().toISOString() } }, request);
  return { token, expiresInSeconds: deps.config.sessionAbsoluteTimeoutSeconds };
}

/** A session that has just proven a new second factor is rotated to AAL2 with a new token, in the same transaction. */
export async function rotateToAal2In(deps: SessionDeps, tx: Queryable, sessionId: string, reason: string, request: RequestFacts): Promise<IssuedToken> {
  const token = newSessionToken();
  await handle(deps, tx, sessionAggregate, sessionId, { type: 'RotateSessionToken', data: { tokenHash: hashToken(token), aal: 2, reason, now: deps.clock.now().toISOString() } }, request);
  return { token, expiresInSeconds: deps.config.sessionAbsoluteTimeoutSeconds };
}

export async function revokeSessionIn(deps: WriteDeps, tx: Queryable, sessionId: string, reason: RevokeReason, request: RequestFacts): Promise<void> {
  await handle(deps, tx, sessionAggregate, sessionId, { type: 'RevokeSession', data: { reason, now: deps.clock.now().toISOString() } }, request);
}

/** Ends every active session of a user except `keep`, in the caller's transaction; returns the ended ids. */
export async function revokeOtherSessionsIn(deps: WriteDeps, tx: Queryable, userId: string, keep: string | null, reason: RevokeReason, request: RequestFacts): Promise<string[]> {
  const ended: string[] = [];
  for (const s of await listActiveSessions(tx, userId)) {
    if (s.session_id === keep) continue;
    await revokeSessionIn(deps, tx, s.session_id, reason, request);
    ended.push(s.session_id);
  }
  return ended;
}

/** RevokeSessions: only the caller's own sessions; someone else's id is simply not found, never revoked. */
export async function revokeSessions(deps: Pick<Deps, 'store' | 'clock' | 'db'>, caller: Caller, ids: string[], request: RequestFacts): Promise<{ revokedIds: string[]; endedCurrent: boolean }> {
  const auth = requireSession(caller);
  const own = new Set((await listActiveSessions(deps.db, auth.user.id)).map((s) => s.session_id));
  const revokedIds = ids.filter((id) => own.has(id));
  for (const id of revokedIds) await deps.store.transactionWithRetry((tx) => revokeSessionIn(deps, tx, id, 'revoked', request));
  return { revokedIds, endedCurrent: revokedIds.includes(auth.session.id) };
}

/** A user's live sessions for display: their addresses and user agents opened (sealed in the projection). */
export async function listSessionsForDisplay(deps: Pick<Deps, 'db' | 'personalData'>, userId: string): Promise<SessionRow[]> {
  return deps.personalData.openDeep(deps.db, await listActiveSessions(deps.db, userId));
}
