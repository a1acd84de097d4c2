import type { DomainEvent } from '../shared/decider.js';

export type UserRegistered = DomainEvent<'UserRegistered', { userId: string; email: string; /** Null: a passkey-only account (MFA_SIGNUP_WEBAUTHN); password login never succeeds for it. */ passwordHash: string | null; at: string }>;
export type PasswordChanged = DomainEvent<'PasswordChanged', { userId: string; passwordHash: string; reason: 'changed' | 'rehashed'; at: string }>;
export type EmailChanged = DomainEvent<'EmailChanged', { userId: string; email: string; previousEmail: string; at: string }>;
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
 * The password was set again without the old one (issue 17 emits it for resets by email: 'code' or 'link'). Shared
 * with that branch in exactly this shape: issue 18 reads "a reset by email after the last strong-factor sign-in".
 */
export type PasswordReset = DomainEvent<'PasswordReset', { userId: string; via: 'code' | 'link' | 'change' | 'admin'; at: string }>;
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

/** Email uniqueness lives in its own stream per address (`email-<HMAC-SHA256 under a server key>`), so two racing signups meet on one version check. */
export type EmailClaimed = DomainEvent<'EmailClaimed', { userId: string; at: string }>;
export type EmailReleased = DomainEvent<'EmailReleased', { userId: string; at: string }>;
export type EmailClaimEvent = EmailClaimed | EmailReleased;

export type UserEvent =
  | UserRegistered | PasswordChanged | EmailChanged | RoleGranted | RoleRevoked | UserLocked | UserUnlocked | UserDeleted | UserErased | ReauthenticationRejected
  | MfaPolicyApplied | MfaPolicyLifted | UserSignedOut | PasswordReset;

export const userEventTypes = [
  'UserRegistered', 'PasswordChanged', 'EmailChanged', 'RoleGranted', 'RoleRevoked', 'UserLocked', 'UserUnlocked', 'UserDeleted', 'UserErased', 'ReauthenticationRejected',
  'MfaPolicyApplied', 'MfaPolicyLifted', 'UserSignedOut', 'PasswordReset',
  'EmailClaimed', 'EmailReleased',
] as const satisfies readonly (UserEvent | EmailClaimEvent)['type'][];
