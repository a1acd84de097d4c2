// TOTP decisions: pure. The handler has opened the secret and matched the code; this decides what that means now.
import { assertNever, DomainError } from '../shared/errors.js';
import type { TotpCommand } from './commands.js';
import type { AuthenticatorEvent } from './events.js';
import { removesLastRequiredFactor } from './policy.js';
import { hasSecondFactor, type AuthenticatorsState } from './state.js';

export function decideTotp(command: TotpCommand, state: AuthenticatorsState): AuthenticatorEvent[] {
  switch (command.type) {
    case 'EnrollTotp': {
      if (state.totp.status === 'active') throw new DomainError('TOTP_ALREADY_ACTIVE');
      const d = command.data;
      return [{ type: 'TotpEnrollmentStarted', data: { userId: d.userId, secretCiphertext: d.secretCiphertext, keyId: d.keyId, expiresAt: d.expiresAt, sessionId: d.sessionId, at: d.now } }];
    }
    case 'ActivateTotp': {
      const d = command.data;
      if (state.totp.status === 'active') throw new DomainError('TOTP_ALREADY_ACTIVE');
      const pending = state.totp.pending;
      // Never set up, expired, replaced by a newer setup since the code was checked, or begun by another session (a
      // stolen second session must not finish a setup whose secret it never saw): illegal, nothing is written.
      if (!pending || d.now >= pending.expiresAt || pending.secretCiphertext !== d.verifiedCiphertext || pending.sessionId !== d.sessionId) throw new DomainError('TOTP_NOT_PENDING');
      if (d.matchedStep === null) return [{ type: 'TotpActivationRejected', data: { userId: d.userId, reason: 'INVALID_CODE', at: d.now } }];
      const activated: AuthenticatorEvent = {
        type: 'TotpActivated',
        // The activation step becomes the last used step, so the code typed to activate cannot also log in.
        data: { userId: d.userId, secretCiphertext: pending.secretCiphertext, keyId: pending.keyId, step: d.matchedStep, at: d.now },
      };
      // Recovery codes come with the first factor; a user who already has a key keeps the set they hold.
      return hasSecondFactor(state) || state.recoveryCodes || !d.recoveryCodeSet ? [activated] : [activated, d.recoveryCodeSet];
    }
    case 'AuthenticateTotp': {
      const d = command.data;
      if (state.totp.status !== 'active') throw new DomainError('TOTP_NOT_ACTIVE');
      // Suspended by "this wasn't me": whoever added it must not sign in with it.
      if (state.totp.suspended) throw new DomainError('FACTOR_SUSPENDED');
      const rejected = (reason: 'INVALID_CODE' | 'CODE_REPLAYED'): AuthenticatorEvent[] => [
        { type: 'TotpCodeRejected', data: { userId: d.userId, reason, purpose: d.purpose, at: d.now } },
      ];
      // Checked against a secret that was since replaced (deactivated and set up again): the match means nothing.
      if (d.matchedStep === null || state.totp.secretCiphertext !== d.verifiedCiphertext) return rejected('INVALID_CODE');
      // RFC 6238 §5.2: never accept a step at or before the last accepted one (this also refuses an earlier step
      // after a later one, which a ±1 window would otherwise allow).
      if (d.matchedStep <= state.totp.lastUsedStep) return rejected('CODE_REPLAYED');
      return [{ type: 'TotpCodeAccepted', data: { userId: d.userId, step: d.matchedStep, purpose: d.purpose, at: d.now } }];
    }
    case 'DeactivateTotp': {
      const d = command.data;
      if (state.totp.status !== 'active') throw new DomainError('TOTP_NOT_ACTIVE');
      if (removesLastRequiredFactor(state, { kind: 'totp' }, d.factorRequired)) throw new DomainError('LAST_FACTOR_REQUIRED');
      return [{ type: 'TotpDeactivated', data: { userId: d.userId, at: d.now } }];
    }
    default:
      return assertNever(command);
  }
}
