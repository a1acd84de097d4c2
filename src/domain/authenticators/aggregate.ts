// Every factor of one user is one aggregate, so invariants across factors (an admin's last factor, recovery codes
// that live and die with the second factors) hold under one version check.
import { createHash } from 'node:crypto';
import type { Aggregate } from '../shared/decider.js';
import { assertNever } from '../shared/errors.js';
import { streams } from '../shared/streams.js';
import type { EmailCodeCommand, FactorSuspensionCommand, MfaResetCommand, RecoveryCodeCommand, TotpCommand, WebAuthnClaimCommand, WebAuthnCommand } from './commands.js';
import { decideMfaReset } from './decideMfaReset.js';
import { decideEmailCode } from './decideEmailCode.js';
import { decideFactorSuspension } from './decideSuspension.js';
import { decideRecoveryCodes } from './decideRecoveryCodes.js';
import { decideTotp } from './decideTotp.js';
import { decideWebAuthn, decideWebAuthnClaim } from './decideWebAuthn.js';
import type { AuthenticatorEvent, WebAuthnClaimEvent } from './events.js';
import { evolveAuthenticators, initialAuthenticatorsState, type AuthenticatorsState, type WebAuthnClaimState } from './state.js';

export type AuthenticatorsCommand = TotpCommand | RecoveryCodeCommand | WebAuthnCommand | MfaResetCommand | EmailCodeCommand | FactorSuspensionCommand;

export function decideAuthenticators(command: AuthenticatorsCommand, state: AuthenticatorsState): AuthenticatorEvent[] {
  switch (command.type) {
    case 'EnrollTotp': case 'ActivateTotp': case 'AuthenticateTotp': case 'DeactivateTotp':
      return decideTotp(command, state);
    case 'GenerateRecoveryCodes': case 'UseRecoveryCode':
      return decideRecoveryCodes(command, state);
    case 'RegisterWebAuthn': case 'AuthenticateWebAuthn': case 'RenameWebAuthn': case 'RemoveWebAuthn':
      return decideWebAuthn(command, state);
    case 'IssueEmailCode': case 'ActivateEmailCode': case 'AuthenticateEmailCode': case 'RemoveEmailCode':
      return decideEmailCode(command, state);
    case 'ResetMfa':
      return decideMfaReset(command, state);
    case 'SuspendFactor': case 'RestoreFactor':
      return decideFactorSuspension(command, state);
    default:
      return assertNever(command);
  }
}

export const authenticatorsAggregate: Aggregate<AuthenticatorsState, AuthenticatorEvent, AuthenticatorsCommand> = {
  streamId: streams.authenticators,
  initialState: initialAuthenticatorsState,
  evolve: evolveAuthenticators,
  decide: decideAuthenticators,
};

/** One credential id, one account (see WebAuthnCredentialClaimed); keyed by the credential id, stored by its hash. */
export const webauthnCredentialAggregate: Aggregate<WebAuthnClaimState, WebAuthnClaimEvent, WebAuthnClaimCommand> = {
  streamId: (credentialId) => streams.webauthnCredential(createHash('sha256').update(credentialId).digest('hex').slice(0, 40)),
  initialState: { claimedBy: null },
  evolve: (_state, event) => ({ claimedBy: event.type === 'WebAuthnCredentialClaimed' ? event.data.userId : null }),
  decide: decideWebAuthnClaim,
};
