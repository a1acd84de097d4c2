// Every verification of a secret, on every path and transport, draws one attempt from the budget of the account and
// of the client address before anything is checked (so malformed guesses count too); a success gives it back.
// A known account's budget, back-off and lock are kept per attempt bucket: a device that completed a login of the
// account before has its own, every other device shares one ('untrusted'). An attacker's failures from anywhere else
// cannot lock the owner out of the browser the owner used yesterday.
import { untrustedBucket } from '../domain/user/state.js';
import type { FailureRecord } from '../domain/user/lockout.js';
import { deviceAndStanding, type DeviceStanding } from '../projections/accountFailures.js';
import { unknownAccountKey, userAccountKey } from '../security/attempts.js';
import type { PendingCaller } from './caller.js';
import type { Deps } from './deps.js';
import type { RequestFacts } from './request.js';

/** Whose budget an attempt draws from, and the request facts its events carry (with the bucket they count in). */
export interface Attempt {
  key: string;
  request: RequestFacts;
  /** The bucket's failures and lock, when they were read with the bucket: the lockout gate then reads nothing. */
  standing?: FailureRecord;
}

/** The attempt of a request on a known account: its own device's bucket if the device is known to it, else the shared one. */
export async function accountAttempt(deps: Pick<Deps, 'db'>, userId: string, request: RequestFacts): Promise<Attempt> {
  return attemptFrom(userId, request, await deviceAndStanding(deps.db, request.deviceId, userId));
}

/** The attempt of a pending login's MFA step: from the standing read with its token when there is one for this device. */
export async function pendingLoginAttempt(deps: Pick<Deps, 'db'>, caller: PendingCaller, request: RequestFacts): Promise<Attempt> {
  const read = caller.standing;
  return read && read.deviceId === request.deviceId ? attemptFrom(caller.flow.userId, request, read) : accountAttempt(deps, caller.flow.userId, request);
}

/** The attempt of a request on a known account, from what was read of its device (whichever read brought it). */
export function attemptFrom(userId: string, request: RequestFacts, read: DeviceStanding): Attempt {
  return attemptIn(userId, read.deviceKnown ? request.deviceId! : untrustedBucket, request, read.standing);
}

export function attemptIn(userId: string, bucket: string, request: RequestFacts, standing?: FailureRecord): Attempt {
  return { key: userAccountKey(userId, bucket), request: { ...request, attemptBucket: bucket }, ...(standing ? { standing } : {}) };
}

/** An attempt on an account that does not exist (an unknown email or credential id): a budget of its own key. */
export function unknownAttempt(name: string, request: RequestFacts): Attempt {
  return { key: unknownAccountKey(name), request };
}

export async function spendAttempt<T>(
  deps: Pick<Deps, 'attempts'>,
  attempt: Attempt,
  verify: (request: RequestFacts) => Promise<T>,
  succeeded: (result: T) => boolean,
): Promise<T> {
  await deps.attempts.consume(attempt.key, attempt.request.clientAddress, attempt.standing);
  const result = await verify(attempt.request);
  if (succeeded(result)) await deps.attempts.refund(attempt.key, attempt.request.clientAddress);
  return result;
}
