// Lockout (issue 6, and issue 11's enumeration fix). The policy is pure (domain/user/lockout.ts); this file feeds it:
//   - known accounts: the count of consecutive failures is a projection of the log (accountFailures.ts) and the lock
//     is the user stream's UserLocked; the reactor, run inside the transaction that records a failure, writes
//     UserLocked when the policy says so; an expired lock is closed with UserUnlocked('timeout'), written lazily by the
//     next attempt;
//   - unknown emails: the same policy over a ledger of their own (security/unknownAccountLedger.ts), so an attacker
//     probing addresses gets the same ACCOUNT_LOCKED and RATE_LIMITED answers, at the same counts, whether or not the
//     address has an account.
import type { Queryable } from '../db/index.js';
import { assertMayAttempt, lockAfterFailure, type LockoutLimits } from '../domain/user/lockout.js';
import { userAggregate } from '../domain/user/aggregate.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { consecutiveFailures, failureEventTypes } from '../projections/accountFailures.js';
import { userIdOfAccountKey, type AccountGate } from '../security/attempts.js';
import type { UnknownAccountLedger } from '../security/unknownAccountLedger.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { systemRequest, type RequestFacts } from './request.js';

type LockoutDeps = Pick<Deps, 'config' | 'clock' | 'store' | 'db'>;

export function createLockoutGate(deps: LockoutDeps, unknownAccounts: UnknownAccountLedger): AccountGate {
  const limits: LockoutLimits = deps.config.lockout;
  return {
    async check(accountKey) {
      const now = deps.clock.now();
      const userId = userIdOfAccountKey(accountKey);
      if (!userId) return assertMayAttempt(await unknownAccounts.get(accountKey), now, limits);
      const { state } = await load(deps.store, userAggregate, userId);
      if (state.lockedUntil !== null && now.toISOString() >= state.lockedUntil) {
        // The lock ran out: the unlock is an event too, written by the first attempt that finds it expired.
        await deps.store.transactionWithRetry((tx) =>
          handle(deps, tx, userAggregate, userId, { type: 'UnlockUser', data: { by: 'timeout', now: now.toISOString() } }, systemRequest()));
      }
      const { consecutive, lastFailureAt } = await consecutiveFailures(deps.db, userId);
      assertMayAttempt({ consecutive, lastFailureAt, lockedUntil: state.lockedUntil }, now, limits);
    },
  };
}

/** A failed password for an email without an account: counted and locked as a real account's would be. */
export async function recordUnknownAccountFailure(deps: Pick<Deps, 'config' | 'clock' | 'unknownAccounts'>, accountKey: string): Promise<void> {
  const now = deps.clock.now();
  const consecutive = await deps.unknownAccounts.recordFailure(accountKey, now);
  const until = lockAfterFailure(consecutive, now, deps.config.lockout);
  if (until) await deps.unknownAccounts.lock(accountKey, until);
}

/** Runs in the transaction of every append, after the inline projections (so the failure count includes it). */
export function createLockoutReactor(deps: LockoutDeps): (tx: Queryable, events: readonly RecordedEvent[]) => Promise<void> {
  return async (tx, events) => {
    const failures = events.filter((e) => (failureEventTypes as readonly string[]).includes(e.type) && typeof e.data.userId === 'string');
    const done = new Set<string>();
    for (const event of failures) {
      const userId = event.data.userId as string;
      if (done.has(userId)) continue;
      done.add(userId);
      const { consecutive } = await consecutiveFailures(tx, userId);
      const now = deps.clock.now();
      const until = lockAfterFailure(consecutive, now, deps.config.lockout);
      if (until) await handle(deps, tx, userAggregate, userId, { type: 'LockUser', data: { until, failures: consecutive, now: now.toISOString() } }, systemRequest(event));
    }
  };
}

/** The administrator's unlock: ends the lock and resets the count (UserUnlocked by 'admin'). */
export async function unlockUser(deps: LockoutDeps, userId: string, request: RequestFacts): Promise<boolean> {
  const { state } = await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, userAggregate, userId, { type: 'UnlockUser', data: { by: 'admin', now: deps.clock.now().toISOString() } }, request));
  return state.lockedUntil === null;
}
