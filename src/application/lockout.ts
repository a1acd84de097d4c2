// Lockout from events (issue 6). The count of consecutive failures is a projection of the log (accountFailures.ts);
// this file turns it into decisions:
//   - the gate, called by the attempt budget before any secret is verified: a locked account is refused with
//     ACCOUNT_LOCKED (even with the right secret), an expired lock is closed with UserUnlocked('timeout') written
//     lazily by the next attempt, and past `backoffAfter` failures each attempt waits 1, 2, 4, … s (RATE_LIMITED);
//   - the reactor, run inside the transaction that records a failure: at `lockAfter` consecutive failures it writes
//     UserLocked. A timeout unlock keeps the count, so every further failure locks again; at `hardLimit` the lock has
//     no end but an administrator's unlock, so NIST SP 800-63B's 100 consecutive failures are never reached.
import type { Queryable } from '../db/index.js';
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { consecutiveFailures, failureEventTypes } from '../projections/accountFailures.js';
import type { AccountGate } from '../security/attempts.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { systemRequest, type RequestFacts } from './request.js';

/** A lock that only an administrator ends (the hard limit). */
export const indefiniteLockUntil = '9999-12-31T23:59:59.000Z';

type LockoutDeps = Pick<Deps, 'config' | 'clock' | 'store' | 'db'>;

const secondsUntil = (at: Date, now: Date): number => Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 1000));

export function createLockoutGate(deps: LockoutDeps): AccountGate {
  const { backoffAfter, backoffMaxSeconds } = deps.config.lockout;
  return {
    async check(userId) {
      const now = deps.clock.now();
      const { state } = await load(deps.store, userAggregate, userId);
      if (state.lockedUntil !== null) {
        if (now.toISOString() < state.lockedUntil) {
          throw new DomainError('ACCOUNT_LOCKED', undefined, { retryAfterSeconds: secondsUntil(new Date(state.lockedUntil), now) });
        }
        // The lock ran out: the unlock is an event too, written by the first attempt that finds it expired.
        await deps.store.transactionWithRetry((tx) =>
          handle(deps, tx, userAggregate, userId, { type: 'UnlockUser', data: { by: 'timeout', now: now.toISOString() } }, systemRequest()));
      }
      const { consecutive, lastFailureAt } = await consecutiveFailures(deps.db, userId);
      if (consecutive >= backoffAfter && lastFailureAt) {
        const waitSeconds = Math.min(backoffMaxSeconds, 2 ** Math.min(consecutive - backoffAfter, 30));
        const readyAt = new Date(lastFailureAt.getTime() + waitSeconds * 1000);
        if (now < readyAt) throw new DomainError('RATE_LIMITED', undefined, { retryAfterSeconds: secondsUntil(readyAt, now) });
      }
    },
  };
}

/** Runs in the transaction of every append, after the inline projections (so the failure count includes it). */
export function createLockoutReactor(deps: LockoutDeps): (tx: Queryable, events: readonly RecordedEvent[]) => Promise<void> {
  const { lockAfter, lockSeconds, hardLimit } = deps.config.lockout;
  return async (tx, events) => {
    const failures = events.filter((e) => (failureEventTypes as readonly string[]).includes(e.type) && typeof e.data.userId === 'string');
    const done = new Set<string>();
    for (const event of failures) {
      const userId = event.data.userId as string;
      if (done.has(userId)) continue;
      done.add(userId);
      const { consecutive } = await consecutiveFailures(tx, userId);
      if (consecutive < lockAfter) continue;
      const now = deps.clock.now();
      const until = consecutive >= hardLimit ? indefiniteLockUntil : new Date(now.getTime() + lockSeconds * 1000).toISOString();
      await handle(deps, tx, userAggregate, userId, { type: 'LockUser', data: { until, failures: consecutive, now: now.toISOString() } }, systemRequest(event));
    }
  };
}

/** The administrator's unlock: ends the lock and resets the count (UserUnlocked by 'admin'). */
export async function unlockUser(deps: LockoutDeps, userId: string, request: RequestFacts): Promise<boolean> {
  const { state } = await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, userAggregate, userId, { type: 'UnlockUser', data: { by: 'admin', now: deps.clock.now().toISOString() } }, request));
  return state.lockedUntil === null;
}
