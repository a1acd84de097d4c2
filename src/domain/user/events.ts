import type { DomainEvent } from '../shared/decider.js';

export type UserRegistered = DomainEvent<'UserRegistered', { userId: string; email: string; /** Null: a passkey-only account (MFA_SIGNUP_WEBAUTHN); password login never succeeds for it. */ passwordHash: string | null; at: string }>;
/** `reset`: set by a reset by email; the PasswordReset event beside it is what notifies and ends sessions. */
export type PasswordChanged = DomainEvent<'PasswordChanged', { userId: string; passwordHash: string; reason: 'changed' | 'rehashed' | 'reset'; at: string }>;
/** `reason` absent: the owner's change; 'restored': "this wasn't me" put the replaced address back. */
export type EmailChanged = DomainEvent<'EmailChanged', { userId: string; email: string; previousEmail: string; reason?: 'changed' | 'restored'; at: string }>;
export type RoleGranted = DomainEvent<'RoleGranted', { userId: string; role: string; at: string }>;
/** `by`, `reason`: the administrator who revoked it and why (absent for the CLI's revocations before issue 18, and for 'system'). */
export type RoleRevoked = DomainEvent<'RoleRevoked', { userId: string; role: string; by?: string; reason?: string; at: string }>;
/** An administrator requires a strong second factor of this user by `deadline` (requireMfa). */
export type MfaPolicyApplied = DomainEvent<'MfaPolicyApplied', { userId: string; deadline: string; by: string; reason: string | null; at: string }>;
/** The administrator's requirement is lifted (roles of MFA_REQUIRED_ROLES still apply). */
export type MfaPolicyLifted = DomainEvent<'MfaPolicyLifted', { userId: string; by: string; reason: string | null; at: string }>;
/** An administrator ended every session of the user (signOutUser); the sessions' own SessionRevoked events follow. */
export type UserSignedOut = DomainEvent<'UserSignedOut', { userId: string; by: string; reason: string | null; sessionCount: number; at: string }>;
/**
 * `bucket`: whose attempts are locked: a known device of the account (its device id), or every unknown device
 * together ('untrusted'). Absent in events written before locks were per device: the account as a whole, read as 'untrusted'.
 */
export type UserLocked = DomainEvent<'UserLocked', { userId: string; until: string; failures: number; bucket?: string; at: string }>;
/** A timeout ends the lock of one bucket; an administrator's unlock ends every lock of the account (no bucket). */
export type UserUnlocked = DomainEvent<'UserUnlocked', { userId: string; by: 'timeout' | 'admin'; bucket?: string; at: string }>;
/** A wrong password from a signed-in user (reauthentication, password change): counted like a failed login. */
export type ReauthenticationRejected = DomainEvent<'ReauthenticationRejected', { userId: string; method: 'password'; purpose: 'reauthenticate' | 'change_password'; at: string }>;
export type UserDeleted = DomainEvent<'UserDeleted', { userId: string; at: string }>;
/**
 * The person's personal data key was destroyed (an administrator's erase; a deleted account's key is destroyed after
 * UserDeleted itself). `by`: the administrator's user id. `reason`: free text an operator gives, which must not itself
 * contain personal data (it is stored in clear, forever): a ticket number, "GDPR art. 17 request".
 */
export type UserErased = DomainEvent<'UserErased', { userId: string; by: string; reason: string; at: string }>;

// ---------- account recovery (issue 17) ----------
// Codes and link keys are never in an event: only the nonce they are derived from with the server key, and their keyed
// hashes (crypto/recoveryTokens.ts), under the server key `keyId`.

/** A reset was asked for by email. A newer request replaces an older one. Codes live 15 minutes, links 24 hours. */
export type PasswordResetRequested = DomainEvent<'PasswordResetRequested', {
  userId: string; nonce: string; keyId: string; codeHash: string; keyHash: string; codeExpiresAt: string; keyExpiresAt: string; at: string;
}>;
/** A wrong, expired or used reset code or key: recorded, and after 3 wrong codes the request is dead. */
export type PasswordResetRejected = DomainEvent<'PasswordResetRejected', { userId: string; via: 'code' | 'link'; reason: 'INVALID_CODE' | 'FLOW_EXPIRED'; at: string }>;
/**
 * The password was reset by email (issue 17), or otherwise (`change`, `admin`: other issues). The new hash is in the
 * PasswordChanged (reason 'reset') beside it. Shared name and shape with issue 18, which refuses an email code as
 * second factor right after a reset by email.
 */
export type PasswordReset = DomainEvent<'PasswordReset', { userId: string; via: 'code' | 'link' | 'change' | 'admin'; at: string }>;
/**
 * A verification code was sent: to the account's address (`newEmail` null), or to the address an email change waits
 * for. personal: newEmail
 */
export type EmailVerificationRequested = DomainEvent<'EmailVerificationRequested', {
  userId: string; nonce: string; keyId: string; codeHash: string; expiresAt: string; newEmail: string | null; at: string;
}>;
export type EmailVerificationRejected = DomainEvent<'EmailVerificationRejected', { userId: string; reason: 'INVALID_CODE' | 'FLOW_EXPIRED'; at: string }>;
/** The account's address (or, with an EmailChanged after it, the new one) is proven to be the user's. */
export type EmailVerified = DomainEvent<'EmailVerified', { userId: string; at: string }>;
/** Someone signed up with this account's address (ACCOUNT_EMAIL_VERIFICATION=mandatory): the owner gets a notice. */
export type SignupAttempted = DomainEvent<'SignupAttempted', { userId: string; at: string }>;
/**
 * "This wasn't me" on a security notification: sessions and trusted devices end, a password reset is required before
 * the next login, a replaced address is restored and an added factor suspended, in one transaction. With
 * `assistedRecovery`, the suspended factor was the only second factor: the account is locked until an administrator
 * restores a factor (`tessera users restore-factor`), never left to the password alone.
 */
export type CompromiseReported = DomainEvent<'CompromiseReported', {
  userId: string; notificationId: string; kind: string; causeType: string; causePosition: number; assistedRecovery: boolean; at: string;
}>;

/** Email uniqueness lives in its own stream per address (`email-<HMAC-SHA256 under a server key>`), so two racing signups meet on one version check. */
export type EmailClaimed = DomainEvent<'EmailClaimed', { userId: string; at: string }>;
export type EmailReleased = DomainEvent<'EmailReleased', { userId: string; at: string }>;
export type EmailClaimEvent = EmailClaimed | EmailReleased;

export type UserEvent =
  | UserRegistered | PasswordChanged | EmailChanged | RoleGranted | RoleRevoked | UserLocked | UserUnlocked | UserDeleted | UserErased | ReauthenticationRejected
  | MfaPolicyApplied | MfaPolicyLifted | UserSignedOut | PasswordReset
  | PasswordResetRequested | PasswordResetRejected | EmailVerificationRequested | EmailVerificationRejected | EmailVerified
  | SignupAttempted | CompromiseReported;

export const userEventTypes = [
  'UserRegistered', 'PasswordChanged', 'EmailChanged', 'RoleGranted', 'RoleRevoked', 'UserLocked', 'UserUnlocked', 'UserDeleted', 'UserErased', 'ReauthenticationRejected',
  'MfaPolicyApplied', 'MfaPolicyLifted', 'UserSignedOut', 'PasswordReset',
  'PasswordResetRequested', 'PasswordResetRejected', 'EmailVerificationRequested', 'EmailVerificationRejected', 'EmailVerified',
  'SignupAttempted', 'CompromiseReported',
  'EmailClaimed', 'EmailReleased',
] as const satisfies readonly (UserEvent | EmailClaimEvent)['type'][];
