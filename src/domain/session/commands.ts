import type { SessionMethod } from './events.js';

export type SessionCommand =
  | {
      type: 'StartSession';
      data: { sessionId: string; userId: string; tokenHash: string; aal: 1 | 2; methods: SessionMethod[]; ip: string; userAgent: string; deviceId: string | null; enrollOnly: boolean; flowId: string | null; mfaTrustOffered: boolean; now: string };
    }
  | { type: 'RecordSessionActivity'; data: { ip: string; now: string; intervalSeconds: number } }
  | { type: 'Reauthenticate'; data: { method: SessionMethod['method']; tokenHash: string; aal: 1 | 2; now: string } }
  | { type: 'RotateSessionToken'; data: { tokenHash: string; aal: 1 | 2; reason: string; now: string } }
  | { type: 'RevokeSession'; data: { reason: 'logout' | 'revoked' | 'password_changed' | 'account_deleted' | 'signed_out_everywhere' | 'mfa_reset' | 'signed_out_by_admin' | 'password_reset' | 'compromise_reported'; now: string } }
  | { type: 'ExpireSession'; data: { reason: 'idle' | 'absolute'; now: string } };
