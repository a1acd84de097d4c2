import type { DomainEvent } from '../shared/decider.js';
import type { LoginMethod } from '../login/events.js';

export interface SessionMethod { method: LoginMethod | 'reauthentication'; at: string; type?: string }

export type SessionStarted = DomainEvent<'SessionStarted', {
  sessionId: string; userId: string; tokenHash: string; aal: 1 | 2; methods: SessionMethod[];
  ip: string; userAgent: string; deviceId: string | null; enrollOnly: boolean;
  /** The login flow that created it (absent on sessions started before flows were recorded, and null for a signup's). */
  flowId?: string | null;
  /** Completed by an MFA step on a known device with device trust enabled: the session is asked MFA_TRUST. */
  mfaTrustOffered?: boolean; at: string;
}>;
export type SessionActivityRecorded = DomainEvent<'SessionActivityRecorded', { sessionId: string; userId: string; ip: string; at: string }>;
export type SessionReauthenticated = DomainEvent<'SessionReauthenticated', { sessionId: string; userId: string; method: SessionMethod['method']; tokenHash: string; aal: 1 | 2; at: string }>;
export type SessionTokenRotated = DomainEvent<'SessionTokenRotated', { sessionId: string; userId: string; tokenHash: string; aal: 1 | 2; reason: string; at: string }>;
export type SessionRevoked = DomainEvent<'SessionRevoked', { sessionId: string; userId: string; reason: 'logout' | 'revoked' | 'password_changed' | 'account_deleted' | 'signed_out_everywhere' | 'mfa_reset' | 'signed_out_by_admin' | 'password_reset' | 'compromise_reported'; at: string }>;
export type SessionExpired = DomainEvent<'SessionExpired', { sessionId: string; userId: string; reason: 'idle' | 'absolute'; at: string }>;

export type SessionEvent = SessionStarted | SessionActivityRecorded | SessionReauthenticated | SessionTokenRotated | SessionRevoked | SessionExpired;

export const sessionEventTypes = [
  'SessionStarted', 'SessionActivityRecorded', 'SessionReauthenticated', 'SessionTokenRotated', 'SessionRevoked', 'SessionExpired',
] as const satisfies readonly SessionEvent['type'][];
