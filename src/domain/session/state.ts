import type { SessionEvent, SessionMethod } from './events.js';

export interface SessionState {
  status: 'none' | 'active' | 'ended';
  sessionId: string | null;
  userId: string | null;
  tokenHash: string | null;
  aal: 1 | 2;
  methods: SessionMethod[];
  createdAt: string | null;
  lastActivityAt: string | null;
  reauthenticatedAt: string | null;
  enrollOnly: boolean;
}

export const initialSessionState: SessionState = {
  status: 'none', sessionId: null, userId: null, tokenHash: null, aal: 1, methods: [], createdAt: null, lastActivityAt: null, reauthenticatedAt: null, enrollOnly: false,
};

export function evolveSession(state: SessionState, event: SessionEvent): SessionState {
  switch (event.type) {
    case 'SessionStarted': {
      const d = event.data;
      return { status: 'active', sessionId: d.sessionId, userId: d.userId, tokenHash: d.tokenHash, aal: d.aal, methods: d.methods, createdAt: d.at, lastActivityAt: d.at, reauthenticatedAt: null, enrollOnly: d.enrollOnly };
    }
    case 'SessionActivityRecorded':
      return { ...state, lastActivityAt: event.data.at };
    case 'SessionReauthenticated':
      return {
        ...state, tokenHash: event.data.tokenHash, aal: event.data.aal, reauthenticatedAt: event.data.at, lastActivityAt: event.data.at,
        methods: [...state.methods, { method: event.data.method, at: event.data.at }],
      };
    case 'SessionTokenRotated':
      return { ...state, tokenHash: event.data.tokenHash, aal: event.data.aal, enrollOnly: false };
    case 'SessionRevoked':
    case 'SessionExpired':
      return { ...state, status: 'ended' };
  }
}

export interface SessionTimeouts {
  idleSeconds: number;
  absoluteSeconds: number;
}

/** Why a session is over at `now`, if it is (NIST SP 800-63B: idle and absolute limits). */
export function sessionExpiry(
  session: { createdAt: string | Date; lastActivityAt: string | Date },
  now: Date,
  timeouts: SessionTimeouts,
): 'idle' | 'absolute' | null {
  const t = now.getTime();
  if (t >= new Date(session.createdAt).getTime() + timeouts.absoluteSeconds * 1000) return 'absolute';
  if (t >= new Date(session.lastActivityAt).getTime() + timeouts.idleSeconds * 1000) return 'idle';
  return null;
}

/** Logging in counts as authenticating: a session is "recently authenticated" after login or reauthentication. */
export function isRecentlyAuthenticated(
  session: { createdAt: string | Date; reauthenticatedAt: string | Date | null },
  now: Date,
  ttlSeconds: number,
): boolean {
  const last = Math.max(new Date(session.createdAt).getTime(), session.reauthenticatedAt ? new Date(session.reauthenticatedAt).getTime() : 0);
  return now.getTime() < last + ttlSeconds * 1000;
}
