// Every factor of one user, folded from the authenticators stream.
import type { AuthenticatorEvent } from './events.js';

export type AuthenticatorType = 'TOTP' | 'RECOVERY_CODES' | 'WEBAUTHN' | 'EMAIL';

export interface TotpState {
  status: 'none' | 'pending' | 'active';
  pending: { secretCiphertext: string; keyId: string; expiresAt: string; sessionId: string | null } | null;
  secretCiphertext: string | null;
  keyId: string | null;
  /** RFC 6238 §5.2: no code from this step or an earlier one is accepted again. */
  lastUsedStep: number;
  createdAt: string | null;
  lastUsedAt: string | null;
  /** Suspended by "this wasn't me": refused until restored. */
  suspended?: boolean;
}

export interface RecoveryCodesState {
  setId: string;
  codeHashes: string[];
  usedIndexes: number[];
  codesCiphertext: string | null;
  keyId: string;
  createdAt: string;
  lastUsedAt: string | null;
  suspended?: boolean;
}

export interface WebAuthnCredentialState {
  authenticatorId: string;
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  backupEligible: boolean;
  backedUp: boolean;
  isPasswordless: boolean;
  name: string;
  attestationVerified?: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  suspended?: boolean;
}

export interface EmailCodeState {
  codeId: string;
  codeHash: string;
  keyId: string;
  flowId: string | null;
  sessionId: string | null;
  expiresAt: string;
  issuedAt: string;
  used: boolean;
}

export interface EmailFactorState {
  status: 'none' | 'active';
  /** The latest code of each purpose: a newer one replaces it (only the latest is ever accepted). */
  enrollCode: EmailCodeState | null;
  loginCode: EmailCodeState | null;
  createdAt: string | null;
  lastUsedAt: string | null;
}

export interface AuthenticatorsState {
  email: EmailFactorState;
  totp: TotpState;
  recoveryCodes: RecoveryCodesState | null;
  webauthn: WebAuthnCredentialState[];
  /** Every credential id this user ever registered, removed ones too: the claims their deletion releases. */
  claimedCredentialIds: string[];
}

export const initialAuthenticatorsState: AuthenticatorsState = {
  totp: { status: 'none', pending: null, secretCiphertext: null, keyId: null, lastUsedStep: -1, createdAt: null, lastUsedAt: null },
  recoveryCodes: null,
  webauthn: [],
  claimedCredentialIds: [],
  email: { status: 'none', enrollCode: null, loginCode: null, createdAt: null, lastUsedAt: null },
};

function updateCredential(state: AuthenticatorsState, id: string, change: (c: WebAuthnCredentialState) => WebAuthnCredentialState): AuthenticatorsState {
  return { ...state, webauthn: state.webauthn.map((c) => (c.authenticatorId === id ? change(c) : c)) };
}

export function evolveAuthenticators(state: AuthenticatorsState, event: AuthenticatorEvent): AuthenticatorsState {
  const d = event.data;
  switch (event.type) {
    case 'TotpEnrollmentStarted':
      return { ...state, totp: { ...state.totp, status: state.totp.status === 'active' ? 'active' : 'pending', pending: { secretCiphertext: event.data.secretCiphertext, keyId: event.data.keyId, expiresAt: event.data.expiresAt, sessionId: event.data.sessionId ?? null } } };
    case 'TotpActivated':
      return { ...state, totp: { status: 'active', pending: null, secretCiphertext: event.data.secretCiphertext, keyId: event.data.keyId, lastUsedStep: event.data.step, createdAt: event.data.at, lastUsedAt: null } };
    case 'TotpCodeAccepted':
      return { ...state, totp: { ...state.totp, lastUsedStep: Math.max(state.totp.lastUsedStep, event.data.step), lastUsedAt: event.data.at } };
    case 'TotpDeactivated':
      return withoutOrphanedRecoveryCodes({ ...state, totp: initialAuthenticatorsState.totp });
    case 'RecoveryCodesGenerated':
      return { ...state, recoveryCodes: { setId: event.data.setId, codeHashes: event.data.codeHashes, usedIndexes: [], codesCiphertext: event.data.codesCiphertext, keyId: event.data.keyId, createdAt: event.data.at, lastUsedAt: null } };
    case 'RecoveryCodeUsed': {
      const set = state.recoveryCodes;
      if (!set || set.setId !== event.data.setId) return state;
      return { ...state, recoveryCodes: { ...set, usedIndexes: [...set.usedIndexes, event.data.index], lastUsedAt: event.data.at } };
    }
    case 'WebAuthnCredentialRegistered': {
      const { userId: _userId, at, ...credential } = event.data;
      return {
        ...state,
        webauthn: [...state.webauthn, { ...credential, createdAt: at, lastUsedAt: null }],
        claimedCredentialIds: [...state.claimedCredentialIds, credential.credentialId],
      };
    }
    case 'WebAuthnAssertionAccepted':
      return updateCredential(state, event.data.authenticatorId, (c) => ({ ...c, counter: event.data.counter, backedUp: event.data.backedUp, lastUsedAt: event.data.at }));
    case 'WebAuthnCredentialRenamed':
      return updateCredential(state, event.data.authenticatorId, (c) => ({ ...c, name: event.data.name }));
    case 'WebAuthnCredentialRemoved':
      return withoutOrphanedRecoveryCodes({ ...state, webauthn: state.webauthn.filter((c) => c.authenticatorId !== event.data.authenticatorId) });
    case 'EmailCodeIssued': {
      const d = event.data;
      const code: EmailCodeState = { codeId: d.codeId, codeHash: d.codeHash, keyId: d.keyId, flowId: d.flowId, sessionId: d.sessionId, expiresAt: d.expiresAt, issuedAt: d.at, used: false };
      return { ...state, email: d.purpose === 'enroll' ? { ...state.email, enrollCode: code } : { ...state.email, loginCode: code } };
    }
    case 'EmailCodeActivated':
      return { ...state, email: { ...state.email, status: 'active', enrollCode: state.email.enrollCode && { ...state.email.enrollCode, used: true }, createdAt: event.data.at } };
    case 'EmailCodeAccepted':
      return { ...state, email: { ...state.email, loginCode: state.email.loginCode && { ...state.email.loginCode, used: true }, lastUsedAt: event.data.at } };
    case 'EmailCodeRejected':
    case 'WebAuthnCredentialRefused':
      return state;
    case 'EmailCodeRemoved':
      return { ...state, email: initialAuthenticatorsState.email };
    case 'MfaReset':
      // The removals that follow it take the factors; the codes and any setup in progress go with the reset itself.
      return { ...state, recoveryCodes: null, totp: state.totp.status === 'active' ? { ...state.totp, pending: null } : initialAuthenticatorsState.totp };
    case 'FactorSuspended':
    case 'FactorRestored': {
      const suspended = event.type === 'FactorSuspended';
      if (event.data.factor === 'totp') return state.totp.status === 'active' ? { ...state, totp: { ...state.totp, suspended } } : state;
      if (event.data.factor === 'recovery_codes') return state.recoveryCodes ? { ...state, recoveryCodes: { ...state.recoveryCodes, suspended } } : state;
      return updateCredential(state, event.data.authenticatorId ?? '', (c) => ({ ...c, suspended }));
    }
    case 'TotpActivationRejected':
    case 'TotpCodeRejected':
    case 'RecoveryCodeRejected':
    case 'WebAuthnAssertionRejected':
    case 'WebAuthnCloneSuspected':
      // Recorded for auditors and the attempt budget; the factors themselves do not change.
      void d;
      return state;
  }
}

/**
 * Recovery codes back up a second factor and die with the last one: the user who removes a factor they think is
 * compromised must not find the old codes still opening the account, and the next first factor issues a fresh set.
 */
function withoutOrphanedRecoveryCodes(state: AuthenticatorsState): AuthenticatorsState {
  return hasSecondFactor(state) ? state : { ...state, recoveryCodes: null };
}

/**
 * A strong second factor (TOTP, WebAuthn): what MFA_REQUIRED_ROLES and an administrator's requirement ask for, and
 * what AAL2 is made of. Recovery codes only back one up.
 */
export function hasStrongSecondFactor(state: AuthenticatorsState): boolean {
  return state.totp.status === 'active' || state.webauthn.length > 0;
}

/** A real second factor: recovery codes only back one up. */
export function hasSecondFactor(state: AuthenticatorsState): boolean {
  return state.totp.status === 'active' || state.webauthn.length > 0;
}

export function unusedRecoveryCodeCount(state: AuthenticatorsState): number {
  const set = state.recoveryCodes;
  return set ? set.codeHashes.length - new Set(set.usedIndexes).size : 0;
}

/**
 * The types a user can answer the MFA step with, in the order frontends offer them. A suspended factor is not offered;
 * it still counts as a second factor (hasSecondFactor), so suspending it never turns a login into a password alone. An
 * email code alone is a second step too (a password login of a user with only an email code still asks for one), but
 * never a strong factor.
 */
export function availableFactorTypes(state: AuthenticatorsState): AuthenticatorType[] {
  const types: AuthenticatorType[] = [];
  if (state.totp.status === 'active' && !state.totp.suspended) types.push('TOTP');
  if (state.webauthn.some((c) => !c.suspended)) types.push('WEBAUTHN');
  if (unusedRecoveryCodeCount(state) > 0 && !state.recoveryCodes?.suspended && hasUsableSecondFactor(state)) types.push('RECOVERY_CODES');
  // The weaker factor, offered last: a login completed with it is AAL1.
  if (state.email.status === 'active') types.push('EMAIL');
  return types;
}

/** A second factor that is not suspended. */
export function hasUsableSecondFactor(state: AuthenticatorsState): boolean {
  return (state.totp.status === 'active' && !state.totp.suspended) || state.webauthn.some((c) => !c.suspended);
}

/** The suspended factors, as the admin's restore command and the owner's confirmation name them. */
export function suspendedFactors(state: AuthenticatorsState): Array<{ factor: 'totp' | 'webauthn' | 'recovery_codes'; authenticatorId: string | null; name: string }> {
  const list: Array<{ factor: 'totp' | 'webauthn' | 'recovery_codes'; authenticatorId: string | null; name: string }> = [];
  if (state.totp.status === 'active' && state.totp.suspended) list.push({ factor: 'totp', authenticatorId: null, name: 'TOTP' });
  for (const c of state.webauthn) if (c.suspended) list.push({ factor: 'webauthn', authenticatorId: c.authenticatorId, name: c.name });
  if (state.recoveryCodes?.suspended) list.push({ factor: 'recovery_codes', authenticatorId: null, name: 'Recovery codes' });
  return list;
}

/** Who holds a credential id (its claim stream); null: nobody, never or since the holder's deletion. */
export interface WebAuthnClaimState {
  claimedBy: string | null;
}
