// One stream per user holds every factor, so invariants across factors (the last factor of an admin) hold under one version check.
import type { DomainEvent } from '../shared/decider.js';

/** `sessionId`: the session that began the setup, the only one that may activate it (absent in events written before it was recorded). */
export type TotpEnrollmentStarted = DomainEvent<'TotpEnrollmentStarted', { userId: string; secretCiphertext: string; keyId: string; expiresAt: string; sessionId?: string; at: string }>;
export type TotpActivated = DomainEvent<'TotpActivated', { userId: string; secretCiphertext: string; keyId: string; step: number; at: string }>;
export type TotpActivationRejected = DomainEvent<'TotpActivationRejected', { userId: string; reason: 'INVALID_CODE'; at: string }>;
export type TotpCodeAccepted = DomainEvent<'TotpCodeAccepted', { userId: string; step: number; purpose: string; at: string }>;
export type TotpCodeRejected = DomainEvent<'TotpCodeRejected', { userId: string; reason: 'INVALID_CODE' | 'CODE_REPLAYED'; purpose: string; at: string }>;
export type TotpDeactivated = DomainEvent<'TotpDeactivated', { userId: string; at: string }>;
export type RecoveryCodesGenerated = DomainEvent<'RecoveryCodesGenerated', { userId: string; setId: string; codeHashes: string[]; codesCiphertext: string | null; keyId: string; at: string }>;
export type RecoveryCodeUsed = DomainEvent<'RecoveryCodeUsed', { userId: string; setId: string; index: number; purpose: string; at: string }>;
export type RecoveryCodeRejected = DomainEvent<'RecoveryCodeRejected', { userId: string; reason: 'INVALID_CODE' | 'CODE_REPLAYED'; purpose: string; at: string }>;
/** `attestationVerified`: a `packed` attestation chained to a root of WEBAUTHN_ATTESTATION_ROOTS vouched for the AAGUID (absent: before issue 18, not verified). */
export type WebAuthnCredentialRegistered = DomainEvent<'WebAuthnCredentialRegistered', {
  userId: string; authenticatorId: string; credentialId: string; publicKey: string; counter: number; transports: string[];
  aaguid: string; backupEligible: boolean; backedUp: boolean; isPasswordless: boolean; name: string; attestationVerified?: boolean; at: string;
}>;
/**
 * A security key refused by the AAGUID lists: at registration (never registered; `authenticatorId` null) or at
 * authentication (registered before its AAGUID was blocked).
 */
export type WebAuthnCredentialRefused = DomainEvent<'WebAuthnCredentialRefused', {
  userId: string; authenticatorId: string | null; aaguid: string; attestationVerified: boolean; reason: 'AAGUID_BLOCKED' | 'AAGUID_NOT_ALLOWED';
  stage: 'registration' | 'authentication'; at: string;
}>;
export type WebAuthnAssertionAccepted = DomainEvent<'WebAuthnAssertionAccepted', { userId: string; authenticatorId: string; counter: number; backedUp: boolean; purpose: string; at: string }>;
export type WebAuthnAssertionRejected = DomainEvent<'WebAuthnAssertionRejected', { userId: string; authenticatorId: string | null; reason: string; purpose: string; at: string }>;
export type WebAuthnCloneSuspected = DomainEvent<'WebAuthnCloneSuspected', { userId: string; authenticatorId: string; storedCounter: number; presentedCounter: number; at: string }>;
export type WebAuthnCredentialRenamed = DomainEvent<'WebAuthnCredentialRenamed', { userId: string; authenticatorId: string; name: string; at: string }>;
export type WebAuthnCredentialRemoved = DomainEvent<'WebAuthnCredentialRemoved', { userId: string; authenticatorId: string; at: string }>;

/** Which factor a suspension names: the TOTP, one key (its authenticator id), or the recovery codes. */
export type SuspendableFactor = 'totp' | 'webauthn' | 'recovery_codes';
/**
 * "This wasn't me" on the notice of a factor's addition (issue 17): the factor is refused by the MFA step, passkey login
 * and reauthentication until restored. `notificationId`: the notice whose key was used.
 */
export type FactorSuspended = DomainEvent<'FactorSuspended', { userId: string; factor: SuspendableFactor; authenticatorId: string | null; notificationId: string; at: string }>;
/** The owner, signed in with another factor, confirmed it (`owner`), or an administrator restored it (`admin`). */
export type FactorRestored = DomainEvent<'FactorRestored', { userId: string; factor: SuspendableFactor; authenticatorId: string | null; by: 'owner' | 'admin'; at: string }>;

/**
 * Email one-time codes (the weaker factor: a session completed with one is AAL1). A code is issued for enrolment
 * (proving the address, bound to the session that asked) or for one pending login (bound to its flow); it is stored
 * only as an HMAC under a key derived from the server's secret keys (`keyId`), never in clear, and it is delivered
 * through the notification outbox, sealed, never through an event.
 */
export type EmailCodeIssued = DomainEvent<'EmailCodeIssued', {
  userId: string; codeId: string; purpose: 'enroll' | 'login'; codeHash: string; keyId: string;
  flowId: string | null; sessionId: string | null; expiresAt: string; at: string;
}>;
export type EmailCodeActivated = DomainEvent<'EmailCodeActivated', { userId: string; codeId: string; at: string }>;
export type EmailCodeAccepted = DomainEvent<'EmailCodeAccepted', { userId: string; codeId: string; purpose: 'login'; at: string }>;
export type EmailCodeRejected = DomainEvent<'EmailCodeRejected', {
  userId: string; reason: 'INVALID_CODE' | 'CODE_REPLAYED' | 'CODE_EXPIRED' | 'FACTOR_NOT_ALLOWED'; purpose: 'enroll' | 'login'; at: string;
}>;
export type EmailCodeRemoved = DomainEvent<'EmailCodeRemoved', { userId: string; at: string }>;

/**
 * An administrator reset the user's MFA (resetUserMfa): the removals follow as their own events (TotpDeactivated,
 * WebAuthnCredentialRemoved, …) in the same append, and every recovery code is gone. `keptAuthenticatorIds`: the
 * passkeys of an account without a password, kept because they are its only way in (README, "MFA reset").
 */
export type MfaReset = DomainEvent<'MfaReset', { userId: string; by: string; reason: string; keptAuthenticatorIds: string[]; at: string }>;

/**
 * The claim stream of one credential id (`webauthn-credential-<hash>`): appended at expected version 0 in the
 * registration's transaction, so of two accounts racing to register one credential id exactly one commits. It also
 * maps a discoverable assertion's credential id to its account for passkey login. Claims are never released: a
 * removed credential's id stays unusable (authenticators make a new id per registration).
 */
export type WebAuthnCredentialClaimed = DomainEvent<'WebAuthnCredentialClaimed', { userId: string; authenticatorId: string; at: string }>;
/** The account that held the credential id was deleted: the id is free for whoever registers it next. */
export type WebAuthnCredentialReleased = DomainEvent<'WebAuthnCredentialReleased', { userId: string; at: string }>;
export type WebAuthnClaimEvent = WebAuthnCredentialClaimed | WebAuthnCredentialReleased;

export type AuthenticatorEvent =
  | TotpEnrollmentStarted | TotpActivated | TotpActivationRejected | TotpCodeAccepted | TotpCodeRejected | TotpDeactivated
  | RecoveryCodesGenerated | RecoveryCodeUsed | RecoveryCodeRejected
  | WebAuthnCredentialRegistered | WebAuthnAssertionAccepted | WebAuthnAssertionRejected | WebAuthnCloneSuspected
  | WebAuthnCredentialRenamed | WebAuthnCredentialRemoved
  | MfaReset | WebAuthnCredentialRefused
  | EmailCodeIssued | EmailCodeActivated | EmailCodeAccepted | EmailCodeRejected | EmailCodeRemoved
  | FactorSuspended | FactorRestored;

export const authenticatorEventTypes = [
  'TotpEnrollmentStarted', 'TotpActivated', 'TotpActivationRejected', 'TotpCodeAccepted', 'TotpCodeRejected', 'TotpDeactivated',
  'RecoveryCodesGenerated', 'RecoveryCodeUsed', 'RecoveryCodeRejected',
  'WebAuthnCredentialRegistered', 'WebAuthnAssertionAccepted', 'WebAuthnAssertionRejected', 'WebAuthnCloneSuspected',
  'WebAuthnCredentialRenamed', 'WebAuthnCredentialRemoved',
  'MfaReset', 'WebAuthnCredentialRefused',
  'EmailCodeIssued', 'EmailCodeActivated', 'EmailCodeAccepted', 'EmailCodeRejected', 'EmailCodeRemoved',
  'FactorSuspended', 'FactorRestored',
  'WebAuthnCredentialClaimed', 'WebAuthnCredentialReleased',
] as const satisfies readonly (AuthenticatorEvent | WebAuthnClaimEvent)['type'][];
