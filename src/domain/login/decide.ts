// The login state machine (DESIGN.md §2): password, then an MFA step when the user has a factor, then a session.
import { assertNever, DomainError } from '../shared/errors.js';
import type { LoginCommand } from './commands.js';
import type { LoginEvent } from './events.js';
import type { LoginState } from './state.js';

export function decideLogin(command: LoginCommand, state: LoginState): LoginEvent[] {
  switch (command.type) {
    case 'StartLogin': {
      if (state.status !== 'none') throw new DomainError('ALREADY_EXISTS', 'login flow already started');
      const d = command.data;
      const started: LoginEvent = { type: 'LoginStarted', data: { flowId: d.flowId, userId: d.userId, method: d.method, at: d.now } };
      if (!d.passwordValid || d.userId === null) {
        return [started, { type: 'PasswordRejected', data: { flowId: d.flowId, userId: d.userId, at: d.now } }];
      }
      const verified: LoginEvent = { type: 'PasswordVerified', data: { flowId: d.flowId, userId: d.userId, at: d.now } };
      if (d.factorTypes.length > 0 && d.trustedDeviceId !== null) {
        // Trust stands in for the second factor on this device only, and only for AAL1: AAL2 still asks for a factor.
        return [started, verified,
          { type: 'TrustedDeviceAccepted', data: { flowId: d.flowId, userId: d.userId, deviceId: d.trustedDeviceId, at: d.now } },
          { type: 'LoginCompleted', data: { flowId: d.flowId, userId: d.userId, sessionId: d.sessionId, aal: 1, at: d.now } }];
      }
      if (d.factorTypes.length > 0) {
        return [started, verified, { type: 'MfaRequired', data: { flowId: d.flowId, userId: d.userId, types: d.factorTypes, tokenHash: d.pendingTokenHash, expiresAt: d.expiresAt, at: d.now } }];
      }
      return [started, verified, { type: 'LoginCompleted', data: { flowId: d.flowId, userId: d.userId, sessionId: d.sessionId, aal: d.aal, at: d.now } }];
    }
    case 'AuthenticateMfa': {
      if (state.status !== 'mfa_pending') throw new DomainError('FLOW_NOT_PENDING');
      const d = command.data;
      const flowId = state.flowId!;
      const userId = state.userId!;
      // An expired flow is closed by an event, so the auditor sees it and the token can never be used again.
      if (d.now >= state.expiresAt!) return [{ type: 'LoginExpired', data: { flowId, userId, at: d.now } }];
      if (!d.outcome.accepted) return [{ type: 'MfaFailed', data: { flowId, userId, method: d.method, reason: d.outcome.reason, at: d.now } }];
      // NIST SP 800-63B does not accept email as an out-of-band authenticator: password plus an email code is AAL1.
      const aal = d.method === 'email' ? 1 : 2;
      return [
        { type: 'MfaSucceeded', data: { flowId, userId, method: d.method, at: d.now } },
        { type: 'LoginCompleted', data: { flowId, userId, sessionId: d.sessionId, aal, at: d.now } },
      ];
    }
    case 'AbandonLogin':
      if (state.status !== 'mfa_pending') return [];
      return [{ type: 'LoginAbandoned', data: { flowId: state.flowId!, userId: state.userId, at: command.data.now } }];
    case 'StartPasskeyLogin': {
      if (state.status !== 'none') throw new DomainError('ALREADY_EXISTS', 'login flow already started');
      const d = command.data;
      // A user-verified passkey is possession plus inherence (or knowledge, the PIN) in one ceremony: AAL2 at once.
      return [
        { type: 'LoginStarted', data: { flowId: d.flowId, userId: d.userId, method: 'passkey', at: d.now } },
        { type: 'LoginCompleted', data: { flowId: d.flowId, userId: d.userId, sessionId: d.sessionId, aal: 2, at: d.now } },
      ];
    }
    default:
      return assertNever(command);
  }
}
