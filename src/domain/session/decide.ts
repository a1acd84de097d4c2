import { assertNever, DomainError } from '../shared/errors.js';
import type { SessionCommand } from './commands.js';
import type { SessionEvent } from './events.js';
import type { SessionState } from './state.js';

export function decideSession(command: SessionCommand, state: SessionState): SessionEvent[] {
  if (command.type === 'StartSession') {
    if (state.status !== 'none') throw new DomainError('ALREADY_EXISTS', 'session already exists');
    const { now, ...d } = command.data;
    return [{ type: 'SessionStarted', data: { ...d, at: now } }];
  }
  if (state.status !== 'active') {
    // Ending an ended session is a no-op: logout twice, or a revocation racing an expiry.
    if (command.type === 'RevokeSession' || command.type === 'ExpireSession' || command.type === 'RecordSessionActivity') return [];
    throw new DomainError('NOT_AUTHENTICATED');
  }
  const sessionId = state.sessionId!;
  const userId = state.userId!;
  switch (command.type) {
    case 'RecordSessionActivity': {
      // Throttled: at most one event per interval per session, so lastSeenAt is true without an event per request.
      const due = new Date(state.lastActivityAt!).getTime() + command.data.intervalSeconds * 1000;
      if (new Date(command.data.now).getTime() < due) return [];
      return [{ type: 'SessionActivityRecorded', data: { sessionId, userId, ip: command.data.ip, at: command.data.now } }];
    }
    case 'Reauthenticate':
      return [{ type: 'SessionReauthenticated', data: { sessionId, userId, method: command.data.method, tokenHash: command.data.tokenHash, aal: command.data.aal, at: command.data.now } }];
    case 'RotateSessionToken':
      return [{ type: 'SessionTokenRotated', data: { sessionId, userId, tokenHash: command.data.tokenHash, aal: command.data.aal, reason: command.data.reason, at: command.data.now } }];
    case 'RevokeSession':
      return [{ type: 'SessionRevoked', data: { sessionId, userId, reason: command.data.reason, at: command.data.now } }];
    case 'ExpireSession':
      return [{ type: 'SessionExpired', data: { sessionId, userId, reason: command.data.reason, at: command.data.now } }];
    default:
      return assertNever(command);
  }
}
