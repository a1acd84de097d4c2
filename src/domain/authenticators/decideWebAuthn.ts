// WebAuthn decisions: pure. The handler has consumed the challenge and run the signature check; this decides what
// the result means against the user's keys as they are now (counter, backup eligibility, ownership).
import { counterRegressed } from '../../crypto/webauthn/counter.js';
import { assertNever, DomainError } from '../shared/errors.js';
import type { WebAuthnClaimCommand, WebAuthnCommand } from './commands.js';
import type { AuthenticatorEvent, WebAuthnClaimEvent } from './events.js';
import { removesLastRequiredFactor } from './policy.js';
import { hasSecondFactor, type AuthenticatorsState, type WebAuthnClaimState } from './state.js';

export function decideWebAuthn(command: WebAuthnCommand, state: AuthenticatorsState): AuthenticatorEvent[] {
  switch (command.type) {
    case 'RegisterWebAuthn': {
      const d = command.data;
      if (state.webauthn.some((c) => c.credentialId === d.credential.id)) throw new DomainError('CREDENTIAL_ALREADY_REGISTERED');
      if (d.refusal !== null) {
        return [{ type: 'WebAuthnCredentialRefused', data: { userId: d.userId, authenticatorId: null, aaguid: d.credential.aaguid, attestationVerified: d.attestationVerified, reason: d.refusal, stage: 'registration', at: d.now } }];
      }
      const registered: AuthenticatorEvent = {
        type: 'WebAuthnCredentialRegistered',
        data: {
          userId: d.userId, authenticatorId: d.authenticatorId, credentialId: d.credential.id, publicKey: d.credential.publicKey,
          counter: d.credential.counter, transports: d.credential.transports, aaguid: d.credential.aaguid,
          backupEligible: d.credential.backupEligible, backedUp: d.credential.backedUp, isPasswordless: d.isPasswordless, name: d.name,
          ...(d.attestationVerified ? { attestationVerified: true } : {}), at: d.now,
        },
      };
      // Recovery codes come with the first factor, as with TOTP; a user who already holds a set keeps it.
      return hasSecondFactor(state) || state.recoveryCodes || !d.recoveryCodeSet ? [registered] : [registered, d.recoveryCodeSet];
    }
    case 'AuthenticateWebAuthn': {
      const d = command.data;
      const credential = state.webauthn.find((c) => c.credentialId === d.credentialId) ?? null;
      const rejected = (reason: string): AuthenticatorEvent => ({
        type: 'WebAuthnAssertionRejected',
        data: { userId: d.userId, authenticatorId: credential?.authenticatorId ?? null, reason, purpose: d.purpose, at: d.now },
      });
      if (!d.check.verified) return [rejected(d.check.reason)];
      // Not this user's key (another account's, or removed since the check): never accepted on anyone else's key.
      if (credential === null || credential.publicKey !== d.verifiedPublicKey) return [rejected('CREDENTIAL_NOT_FOUND')];
      // Suspended by "this wasn't me": refused for the MFA step, passkey login and reauthentication alike.
      if (credential.suspended) throw new DomainError('FACTOR_SUSPENDED');
      // WebAuthn §6.1.1: a counter that did not increase means two authenticators may hold this key.
      if (counterRegressed(credential.counter, d.check.newCounter)) {
        return [
          { type: 'WebAuthnCloneSuspected', data: { userId: d.userId, authenticatorId: credential.authenticatorId, storedCounter: credential.counter, presentedCounter: d.check.newCounter, at: d.now } },
          rejected('CLONE_SUSPECTED'),
        ];
      }
      // A key registered before its AAGUID was blocked: refused, and the refusal names the AAGUID.
      if (d.blockedAaguids.includes(credential.aaguid)) {
        return [
          { type: 'WebAuthnCredentialRefused', data: { userId: d.userId, authenticatorId: credential.authenticatorId, aaguid: credential.aaguid, attestationVerified: credential.attestationVerified ?? false, reason: 'AAGUID_BLOCKED', stage: 'authentication', at: d.now } },
          rejected('AAGUID_BLOCKED'),
        ];
      }
      // WebAuthn §6.1.3: backup eligibility is fixed at creation; a change means a different authenticator.
      if (d.check.backupEligible !== credential.backupEligible) return [rejected('BACKUP_ELIGIBILITY_CHANGED')];
      return [{
        type: 'WebAuthnAssertionAccepted',
        data: { userId: d.userId, authenticatorId: credential.authenticatorId, counter: d.check.newCounter, backedUp: d.check.backedUp, purpose: d.purpose, at: d.now },
      }];
    }
    case 'RenameWebAuthn': {
      const d = command.data;
      if (!state.webauthn.some((c) => c.authenticatorId === d.authenticatorId)) throw new DomainError('NOT_FOUND');
      return [{ type: 'WebAuthnCredentialRenamed', data: { userId: d.userId, authenticatorId: d.authenticatorId, name: d.name, at: d.now } }];
    }
    case 'RemoveWebAuthn': {
      const d = command.data;
      const ids = [...new Set(d.authenticatorIds)];
      if (ids.length === 0 || ids.some((id) => !state.webauthn.some((c) => c.authenticatorId === id))) throw new DomainError('NOT_FOUND');
      if (removesLastRequiredFactor(state, { kind: 'webauthn', authenticatorIds: ids }, d.factorRequired)) throw new DomainError('LAST_FACTOR_REQUIRED');
      // Without a password, a passkey is the only way in: removing the last one would lock the owner out for good.
      if (!d.hasPassword && !state.webauthn.some((c) => c.isPasswordless && !ids.includes(c.authenticatorId))) throw new DomainError('LAST_SIGN_IN_METHOD');
      return ids.map((authenticatorId) => ({ type: 'WebAuthnCredentialRemoved' as const, data: { userId: d.userId, authenticatorId, at: d.now } }));
    }
    default:
      return assertNever(command);
  }
}

/**
 * The claim stream of one credential id: the first account to claim it keeps it (see WebAuthnCredentialClaimed) until
 * that account is deleted, which releases it.
 */
export function decideWebAuthnClaim(command: WebAuthnClaimCommand, state: WebAuthnClaimState): WebAuthnClaimEvent[] {
  switch (command.type) {
    case 'ClaimWebAuthnCredential': {
      if (state.claimedBy !== null) throw new DomainError('CREDENTIAL_ALREADY_REGISTERED');
      const d = command.data;
      return [{ type: 'WebAuthnCredentialClaimed', data: { userId: d.userId, authenticatorId: d.authenticatorId, at: d.now } }];
    }
    case 'ReleaseWebAuthnCredential':
      if (state.claimedBy !== command.data.userId) return [];
      return [{ type: 'WebAuthnCredentialReleased', data: { userId: command.data.userId, at: command.data.now } }];
    default:
      return assertNever(command);
  }
}

/** The error a rejected assertion answers with: one code per meaning (DESIGN.md §6). */
export function assertionErrorCode(reason: string): 'CLONE_SUSPECTED' | 'CHALLENGE_INVALID' | 'WEBAUTHN_VERIFICATION_FAILED' {
  if (reason === 'CLONE_SUSPECTED') return 'CLONE_SUSPECTED';
  if (reason === 'CHALLENGE_INVALID') return 'CHALLENGE_INVALID';
  return 'WEBAUTHN_VERIFICATION_FAILED';
}
