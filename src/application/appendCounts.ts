// How many events a login appends on success, from the request alone: what a command draws positions for ahead
// (EventStore.drawAhead, or with the caller's token: caller.ts). Pure, and imported by the use cases and by the caller's
// lookup alike (a module of its own, so the lookup needs none of the use cases).
import type { RequestFacts } from './request.js';

/**
 * Whether a full session started on this request records its device (DeviceSeen): not when the request's attempt
 * counted in the device's own bucket, which means the device is already known to the account (nothing to record, and
 * no need to read the device's stream on the login path).
 */
export function seesDevice(request: RequestFacts, enrollOnly: boolean): boolean {
  const deviceId = request.deviceId ?? null;
  return deviceId !== null && !enrollOnly && request.attemptBucket !== deviceId;
}

/** How many events startSessionIn appends (for EventStore.drawAhead): SessionStarted, and DeviceSeen when it records the device. */
export function sessionStartAppends(request: RequestFacts, enrollOnly = false): number {
  return seesDevice(request, enrollOnly) ? 2 : 1;
}

/**
 * How many events a login completed by a factor appends: the factor's use (TotpCodeAccepted, RecoveryCodeUsed,
 * WebAuthnAssertionAccepted), two of the login's (MfaSucceeded and LoginCompleted after a password, LoginStarted and
 * LoginCompleted for a passkey) and the session's start. Drawn ahead (EventStore.drawAhead) with the transaction's
 * first read; a failure appends fewer, and leaves the rest as gaps.
 */
export function factorLoginAppends(request: RequestFacts): number {
  return 3 + sessionStartAppends(request);
}

/**
 * factorLoginAppends for a device known to the account (its attempt counts in the device's own bucket) and for one
 * not known, in that order: a read ahead made before the attempt is drawn picks one by the device's standing it reads.
 */
export function factorLoginAppendsByDevice(request: RequestFacts): [known: number, unknown: number] {
  return [factorLoginAppends({ ...request, attemptBucket: request.deviceId }), factorLoginAppends(request)];
}

/**
 * How many events a password login's decision on its new login stream appends when the password is right
 * (loginAggregate's StartLogin): LoginStarted, PasswordVerified, then MfaRequired (the MFA step waits) or LoginCompleted;
 * when a trusted device stands in for the second factor, TrustedDeviceAccepted before LoginCompleted.
 */
export const passwordLoginAppends = { mfaPending: 3, completed: 3, trustedDevice: 4 } as const;
