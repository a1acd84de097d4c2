import type { DomainEvent } from '../shared/decider.js';

/** `trust`: the MFA step skipped on a device the user trusted (MFA_TRUST); the session stays AAL1. */
export type LoginMethod = 'password' | 'totp' | 'recovery_code' | 'webauthn' | 'passkey' | 'trust' | 'email';

export type LoginStarted = DomainEvent<'LoginStarted', { flowId: string; userId: string | null; method: 'password' | 'passkey'; at: string }>;
export type PasswordVerified = DomainEvent<'PasswordVerified', { flowId: string; userId: string; at: string }>;
export type PasswordRejected = DomainEvent<'PasswordRejected', { flowId: string; userId: string | null; at: string }>;
/** The pending login's token (its hash) is issued here: it grants nothing but the MFA step, until expiresAt. */
export type MfaRequired = DomainEvent<'MfaRequired', { flowId: string; userId: string; types: string[]; tokenHash: string; expiresAt: string; at: string }>;
export type MfaSucceeded = DomainEvent<'MfaSucceeded', { flowId: string; userId: string; method: LoginMethod; at: string }>;
export type MfaFailed = DomainEvent<'MfaFailed', { flowId: string; userId: string; method: LoginMethod; reason: string; at: string }>;
/** The account has a second factor, and the login comes from a device its owner trusted: no MFA step this time. */
export type TrustedDeviceAccepted = DomainEvent<'TrustedDeviceAccepted', { flowId: string; userId: string; deviceId: string; at: string }>;
export type LoginCompleted = DomainEvent<'LoginCompleted', { flowId: string; userId: string; sessionId: string; aal: 1 | 2; at: string }>;
export type LoginExpired = DomainEvent<'LoginExpired', { flowId: string; userId: string | null; at: string }>;
export type LoginAbandoned = DomainEvent<'LoginAbandoned', { flowId: string; userId: string | null; at: string }>;

export type LoginEvent =
  | LoginStarted | PasswordVerified | PasswordRejected | MfaRequired | MfaSucceeded | MfaFailed | TrustedDeviceAccepted | LoginCompleted | LoginExpired | LoginAbandoned;

export const loginEventTypes = [
  'LoginStarted', 'PasswordVerified', 'PasswordRejected', 'MfaRequired', 'MfaSucceeded', 'MfaFailed', 'TrustedDeviceAccepted', 'LoginCompleted', 'LoginExpired', 'LoginAbandoned',
] as const satisfies readonly LoginEvent['type'][];
