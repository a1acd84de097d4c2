// One stream per device (`device-<id>`): a browser's device cookie or an app install's device token. What the device
// is to each account that used it: known (after a completed login), trusted for the MFA step, or forgotten.
import type { DomainEvent } from '../shared/decider.js';

/** The first completed login of this account on this device: from now on it is a known device of the account. */
export type DeviceSeen = DomainEvent<'DeviceSeen', { deviceId: string; userId: string; name: string; at: string }>;
/** "Trust this device" after an MFA step (allauth's MFA trust): password logins from it skip the MFA step until `until`. */
export type DeviceTrusted = DomainEvent<'DeviceTrusted', { deviceId: string; userId: string; sessionId: string; until: string; at: string }>;
/** The user answered the MFA_TRUST question with no. */
export type DeviceTrustDeclined = DomainEvent<'DeviceTrustDeclined', { deviceId: string; userId: string; sessionId: string; at: string }>;
export type DeviceTrustRevokedReason = 'user' | 'password_changed' | 'factor_removed' | 'signed_out_everywhere' | 'mfa_reset' | 'password_reset' | 'compromise_reported';
export type DeviceTrustRevoked = DomainEvent<'DeviceTrustRevoked', { deviceId: string; userId: string; reason: DeviceTrustRevokedReason; at: string }>;
/** A known device that reached the hard limit of consecutive failures is known no more (and trusted no more). */
export type DeviceForgotten = DomainEvent<'DeviceForgotten', { deviceId: string; userId: string; reason: 'hard_limit'; at: string }>;

export type DeviceEvent = DeviceSeen | DeviceTrusted | DeviceTrustDeclined | DeviceTrustRevoked | DeviceForgotten;

export const deviceEventTypes = ['DeviceSeen', 'DeviceTrusted', 'DeviceTrustDeclined', 'DeviceTrustRevoked', 'DeviceForgotten'] as const satisfies readonly DeviceEvent['type'][];
