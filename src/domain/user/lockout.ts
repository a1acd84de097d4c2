// The lockout policy, pure: what a count of consecutive failures means for the next attempt, and when a failure locks.
// Known accounts get their count and lock from the log (accountFailures, UserLocked); unknown emails from a ledger of
// their own (application/lockout.ts). Both go through these two functions, so an attacker probing emails sees the
// same answers, at the same counts, for an address that has an account and for one that has none.
import { DomainError } from '../shared/errors.js';

export interface LockoutLimits {
  backoffAfter: number;
  backoffMaxSeconds: number;
  lockAfter: number;
  lockSeconds: number;
  hardLimit: number;
}

export interface FailureRecord {
  consecutive: number;
  lastFailureAt: Date | null;
  /** ISO time the lock ends; null: not locked. */
  lockedUntil: string | null;
}

/** A lock that only an administrator ends (the hard limit). */
export const indefiniteLockUntil = '9999-12-31T23:59:59.000Z';

const secondsUntil = (at: Date, now: Date): number => Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 1000));

/** Refuses the next attempt while locked (ACCOUNT_LOCKED) or backing off (RATE_LIMITED); a lock that ran out is no lock. */
export function assertMayAttempt(record: FailureRecord, now: Date, limits: LockoutLimits): void {
  if (record.lockedUntil !== null && now.toISOString() < record.lockedUntil) {
    throw new DomainError('ACCOUNT_LOCKED', undefined, { retryAfterSeconds: secondsUntil(new Date(record.lockedUntil), now) });
  }
  if (record.consecutive >= limits.backoffAfter && record.lastFailureAt) {
    // 1, 2, 4, … seconds after the last failure, capped.
    const waitSeconds = Math.min(limits.backoffMaxSeconds, 2 ** Math.min(record.consecutive - limits.backoffAfter, 30));
    const readyAt = new Date(record.lastFailureAt.getTime() + waitSeconds * 1000);
    if (now < readyAt) throw new DomainError('RATE_LIMITED', undefined, { retryAfterSeconds: secondsUntil(readyAt, now) });
  }
}

/**
 * Whether the failure that brought the count to `consecutive` locks, and until when. A lock that ran out keeps the
 * count, so every further failure locks again; at the hard limit the lock has no end but an administrator's unlock.
 */
export function lockAfterFailure(consecutive: number, now: Date, limits: LockoutLimits): string | null {
  if (consecutive < limits.lockAfter) return null;
  return consecutive >= limits.hardLimit ? indefiniteLockUntil : new Date(now.getTime() + limits.lockSeconds * 1000).toISOString();
}
