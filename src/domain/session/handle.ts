// Session commands. A session's token is never stored: only its SHA-256, in events and in the sessions projection.
import type { Queryable } from '../../db/index.js';
import type { App } from '../../app.js';
import { hashToken, newId, newSessionToken } from '../../crypto/tokens.js';
import { listActiveSessions } from '../../projections/sessions.js';
import type { RequestInfo } from '../shared/request.js';
import { loadAggregate, retryOnConflict, streams } from '../shared/streams.js';
import type { SessionCommand } from './commands.js';
import { decideSession } from './decide.js';
import type { SessionMethod } from './events.js';
import { evolveSession, initialSessionState, type SessionState } from './state.js';

export function loadSession(app: App, sessionId: string, tx?: Queryable) {
  return loadAggregate(app.store, streams.session(sessionId), initialSessionState, evolveSession, tx);
}

export async function executeSession(app: App, tx: Queryable, sessionId: string, command: SessionCommand, request: RequestInfo): Promise<SessionState> {
  // A session starts on an id minted for it: nothing to read (append at version 0 refuses an existing stream).
  const { state, version } = command.type === 'StartSession' ? { state: initialSessionState, version: 0 } : await loadSession(app, sessionId, tx);
  const events = decideSession(command, state);
  if (events.length > 0) await app.store.append(streams.session(sessionId), events, { expectedVersion: version, metadata: request.metadata, now: app.clock.now(), tx });
  return events.reduce(evolveSession, state);
}

export interface IssuedSession {
  sessionId: string;
  token: string;
  aal: 1 | 2;
}

/** Starts a session inside the caller's transaction (the login that earned it commits with it). */
export async function startSessionIn(
  app: App,
  tx: Queryable,
  input: { userId: string; aal: 1 | 2; methods: SessionMethod[]; enrollOnly: boolean; sessionId?: string },
  request: RequestInfo,
): Promise<IssuedSession> {
  const sessionId = input.sessionId ?? newId();
  const token = newSessionToken();
  await executeSession(app, tx, sessionId, {
    type: 'StartSession',
    data: {
      sessionId, userId: input.userId, tokenHash: hashToken(token), aal: input.aal, methods: input.methods,
      ip: request.ip, userAgent: request.userAgent, deviceId: null, enrollOnly: input.enrollOnly, now: app.clock.now().toISOString(),
    },
  }, request);
  return { sessionId, token, aal: input.aal };
}

/** Reauthentication proves the user again: the session gets a new token and a fresh reauthentication time. */
export async function reauthenticateSession(app: App, sessionId: string, method: SessionMethod['method'], aal: 1 | 2, request: RequestInfo, tx?: Queryable): Promise<string> {
  const token = newSessionToken();
  const command: SessionCommand = { type: 'Reauthenticate', data: { method, tokenHash: hashToken(token), aal, now: app.clock.now().toISOString() } };
  if (tx) await executeSession(app, tx, sessionId, command, request);
  else await retryOnConflict(() => app.store.transaction((q) => executeSession(app, q, sessionId, command, request)));
  return token;
}

export async function revokeSession(app: App, sessionId: string, reason: 'logout' | 'revoked' | 'password_changed' | 'account_deleted', request: RequestInfo, tx?: Queryable): Promise<void> {
  const command: SessionCommand = { type: 'RevokeSession', data: { reason, now: app.clock.now().toISOString() } };
  if (tx) await executeSession(app, tx, sessionId, command, request);
  else await retryOnConflict(() => app.store.transaction((q) => executeSession(app, q, sessionId, command, request)));
}

/** Ends every active session of a user except `keep`, in the caller's transaction. */
export async function revokeOtherSessions(app: App, tx: Queryable, userId: string, keep: string | null, reason: 'password_changed' | 'account_deleted', request: RequestInfo): Promise<string[]> {
  const sessions = await listActiveSessions(tx, userId);
  const ended: string[] = [];
  for (const s of sessions) {
    if (s.session_id === keep) continue;
    await executeSession(app, tx, s.session_id, { type: 'RevokeSession', data: { reason, now: app.clock.now().toISOString() } }, request);
    ended.push(s.session_id);
  }
  return ended;
}
