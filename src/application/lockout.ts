// Lockout (issue 6, and issue 11's enumeration fix). The policy is pure (domain/user/lockout.ts); this file feeds it:
//   - known accounts, per attempt bucket (a device known to the account, or 'untrusted' for all others): the count of
//     consecutive failures is a projection of the log (accountFailures.ts) and the lock is the user stream's
//     UserLocked for that bucket (projected beside the count, so the gate reads one row); the reactor, run inside the
//     transaction that records a failure, writes UserLocked
//     when the policy says so; an expired lock is closed with UserUnlocked('timeout'), written lazily by the next
//     attempt. At the hard limit the 'untrusted' bucket stays locked until an administrator's unlock, while a known
//     device is forgotten instead (DeviceForgotten): its attempts then count with the strangers';
//   - unknown emails: the same policy over a ledger of their own (security/unknownAccountLedger.ts), so an attacker
//     probing addresses gets the same ACCOUNT_LOCKED and RATE_LIMITED answers, at the same counts, whether or not the
//     address has an account.
import type { Queryable } from '../db/index.js';
import { assertMayAttempt, lockAfterFailure, type LockoutLimits } from '../domain/user/lockout.js';
import { userAggregate } from '../domain/user/aggregate.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { accountStanding, failureEventTypes } from '../projections/accountFailures.js';
import { accountOfKey, type AccountGate } from '../security/attempts.js';
import { deviceAggregate } from '../domain/device/aggregate.js';
import { noSecretBucket, untrustedBucket } from '../domain/user/state.js';
import type { UnknownAccountLedger } from '../security/unknownAccountLedger.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { systemRequest, type RequestFacts } from './request.js';

type LockoutDeps = Pick<Deps, 'config' | 'clock' | 'store' | 'db'>;

export function createLockoutGate(deps: LockoutDeps, unknownAccounts: UnknownAccountLedger): AccountGate {
  const limits: LockoutLimits = deps.config.lockout;
  return {
    async check(accountKey, known) {
      const now = deps.clock.now();
      const account = accountOfKey(accountKey);
      if (!account) return assertMayAttempt(await unknownAccounts.get(accountKey), now, limits);
      const { userId, bucket } = account;
      // The bucket's failures and lock, from the projection of the user stream's UserLocked/UserUnlocked and of the
      // failures (accountFailures.ts), inline and so never behind the log; read by the caller with the bucket, if it could.
      const standing = known ?? (await accountStanding(deps.db, userId, bucket));
      if (standing.lockedUntil !== null && now.toISOString() >= standing.lockedUntil) {
        // The lock ran out: the unlock is an event too, written by the first attempt that finds it expired.
        await deps.store.transactionWithRetry((tx) =>
          handle(deps, tx, userAggregate, userId, { type: 'UnlockUser', data: { by: 'timeout', bucket, now: now.toISOString() } }, systemRequest()));
      }
      assertMayAttempt(standing, now, limits);
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
      const bucket = event.metadata.attemptBucket ?? untrustedBucket;
      if (bucket === noSecretBucket) continue;
      if (done.has(`${userId}:${bucket}`)) continue;
      done.add(`${userId}:${bucket}`);
      const { consecutive } = await accountStanding(tx, userId, bucket);
      const now = deps.clock.now();
      if (bucket !== untrustedBucket && consecutive >= deps.config.lockout.hardLimit) {
        await handle(deps, tx, deviceAggregate, bucket, { type: 'ForgetDevice', data: { deviceId: bucket, userId, now: now.toISOString() } }, systemRequest(event));
        continue;
      }
      const until = lockAfterFailure(consecutive, now, deps.config.lockout);
      if (until) await handle(deps, tx, userAggregate, userId, { type: 'LockUser', data: { until, failures: consecutive, bucket, now: now.toISOString() } }, systemRequest(event));
    }
  };
}

/** The administrator's unlock (GraphQL and `tessera users unlock`): ends every lock and resets every count. */
export async function unlockUser(deps: LockoutDeps, userId: string, request: RequestFacts): Promise<boolean> {
  const { state } = await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, userAggregate, userId, { type: 'UnlockUser', data: { by: 'admin', now: deps.clock.now().toISOString() } }, request));
  return Object.keys(state.locks).length === 0;
}
