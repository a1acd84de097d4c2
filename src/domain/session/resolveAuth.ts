// Who is calling: resolves a bearer token or cookie to a live session or a pending login, on every request.
import type { App } from '../../app.js';
import { hashToken } from '../../crypto/tokens.js';
import { ConcurrencyError } from '../../eventstore/index.js';
import type { AuthContext } from '../../graphql/context.js';
import { findPendingFlowByTokenHash } from '../../projections/loginFlows.js';
import { findActiveSessionWithUser } from '../../projections/sessions.js';
import { executeSession } from './handle.js';
import { sessionExpiry } from './state.js';

export const sessionCookieName = 'tessera_session';

export async function resolveAuth(app: App, token: string, request: { ip: string; userAgent: string }): Promise<AuthContext> {
  const tokenHash = hashToken(token);
  const now = app.clock.now();
  const metadata = { actor: 'system', ip: request.ip, userAgent: request.userAgent };
  const session = await findActiveSessionWithUser(app.db, tokenHash);
  if (session) {
    const expired = sessionExpiry({ createdAt: session.created_at, lastActivityAt: session.last_seen_at }, now, {
      idleSeconds: app.config.sessionIdleTimeoutSeconds,
      absoluteSeconds: app.config.sessionAbsoluteTimeoutSeconds,
    });
    if (expired) {
      // The end of a session is an event like any other; a racing request may have written it first.
      await app.store
        .transaction((tx) => executeSession(app, tx, session.session_id, { type: 'ExpireSession', data: { reason: expired, now: now.toISOString() } }, { ...request, metadata }))
        .catch((error) => { if (!(error instanceof ConcurrencyError)) throw error; });
      return { kind: 'anonymous' };
    }
    const intervalSeconds = app.config.sessionActivityIntervalSeconds;
    let lastSeenAt = session.last_seen_at;
    if (app.config.trackSessionActivity && now.getTime() >= session.last_seen_at.getTime() + intervalSeconds * 1000) {
      // This request is the activity being recorded (or a racing request recorded it first): it sees itself.
      lastSeenAt = now;
      await app.store
        .transaction((tx) => executeSession(app, tx, session.session_id, { type: 'RecordSessionActivity', data: { ip: request.ip, now: now.toISOString(), intervalSeconds } }, { ...request, metadata: { ...metadata, actor: session.user_id } }))
        .catch((error) => { if (!(error instanceof ConcurrencyError)) throw error; });
    }
    return {
      kind: 'session',
      token,
      session: {
        id: session.session_id,
        userId: session.user_id,
        aal: session.aal === 2 ? 2 : 1,
        methods: session.methods,
        ip: session.ip,
        userAgent: session.user_agent,
        createdAt: session.created_at,
        lastSeenAt,
        lastActivityRecordedAt: lastSeenAt,
        reauthenticatedAt: session.reauthenticated_at,
        enrollOnly: session.enroll_only,
      },
      user: { id: session.user_id, email: session.email, roles: session.roles, createdAt: session.user_created_at },
    };
  }
  const flow = await findPendingFlowByTokenHash(app.db, tokenHash);
  if (flow) {
    return { kind: 'pending', token, flow: { flowId: flow.flow_id, userId: flow.user_id, stage: 'MFA_AUTHENTICATE', types: flow.types, expiresAt: flow.expires_at } };
  }
  return { kind: 'anonymous' };
}
