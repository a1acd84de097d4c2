// One attempt budget per account, shared by every way in (DESIGN.md §7). Every verification of a secret asks it first
// and reports its outcome, so password, TOTP, recovery code, WebAuthn, passkey and reauthentication draw on one budget.
// The same call also spends from the client address's budget (IPv6 by /64), so rotating accounts from one place is
// throttled too, and, in the app, checks the account's lock and back-off (application/lockout.ts) before anything is
// verified. The client address is passed by the use case, from the request facts every transport hands it.
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { DomainError } from '../domain/shared/errors.js';
import type { FailureRecord } from '../domain/user/lockout.js';
import { addressBucket } from './clientAddress.js';

export interface AttemptBudget {
  /**
   * Throws ACCOUNT_LOCKED or RATE_LIMITED when the account (or the address) has no attempts left; otherwise reserves one.
   * `standing`: the account bucket's failures and lock as the caller has just read them (in the statement that told it
   * the bucket), so the lockout gate need not read them again.
   */
  consume(accountKey: string, clientAddress: string, standing?: FailureRecord): Promise<void>;
  /** A successful verification gives the reserved attempt back. */
  refund(accountKey: string, clientAddress: string): Promise<void>;
  /**
   * One unit of the client address's budget alone, never given back: what an anonymous request that writes or hashes
   * pays (signup, a passkey ceremony's challenge) when there is no account to charge.
   */
  consumeAddress(clientAddress: string): Promise<void>;
}

export interface BudgetLimits {
  accountPoints?: number;
  accountWindowSeconds?: number;
  ipPoints?: number;
  ipWindowSeconds?: number;
  /** Anonymous writes (signups, passkey ceremonies begun) per client address per ip window. */
  anonymousWritesPerIp?: number;
}

function rateLimited(rejection: unknown): never {
  if (rejection instanceof RateLimiterRes) {
    throw new DomainError('RATE_LIMITED', undefined, { retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) });
  }
  throw rejection;
}

/**
 * Anonymous writes draw from a limiter of their own: a login page starts a passkey-autofill ceremony on every visit, and
 * an office behind one address must not spend its people's verification attempts by opening it.
 */
function budgetOver(account: RateLimiterAbstract, ip: RateLimiterAbstract, anonymousWrites: RateLimiterAbstract): AttemptBudget {
  // The system itself ('') and an address that could not be read have no budget of their own; the account's still counts.
  const addressOf = (clientAddress: string): string | undefined =>
    clientAddress && clientAddress !== 'unknown' ? addressBucket(clientAddress) : undefined;
  return {
    async consume(accountKey, clientAddress) {
      const address = addressOf(clientAddress);
      if (address) await ip.consume(address, 1).catch(rateLimited);
      await account.consume(accountKey, 1).catch(rateLimited);
    },
    async refund(accountKey, clientAddress) {
      const address = addressOf(clientAddress);
      await account.reward(accountKey, 1);
      if (address) await ip.reward(address, 1);
    },
    async consumeAddress(clientAddress) {
      const address = addressOf(clientAddress);
      if (address) await anonymousWrites.consume(address, 1).catch(rateLimited);
    },
  };
}

export function createMemoryAttemptBudget(options: { points?: number; durationSeconds?: number } & BudgetLimits = {}): AttemptBudget {
  return budgetOver(
    new RateLimiterMemory({ keyPrefix: 'attempts', points: options.accountPoints ?? options.points ?? 10, duration: options.accountWindowSeconds ?? options.durationSeconds ?? 15 * 60 }),
    new RateLimiterMemory({ keyPrefix: 'attempts-ip', points: options.ipPoints ?? 100, duration: options.ipWindowSeconds ?? 15 * 60 }),
    new RateLimiterMemory({ keyPrefix: 'anonymous-writes-ip', points: options.anonymousWritesPerIp ?? 1000, duration: options.ipWindowSeconds ?? 15 * 60 }),
  );
}

/** Counters in Redis: every instance pointed at the same Redis (and prefix) draws on the same budgets. */
export function createRedisAttemptBudget(redis: Redis, options: BudgetLimits & { keyPrefix: string }): AttemptBudget {
  return budgetOver(
    new RateLimiterRedis({ storeClient: redis, keyPrefix: `${options.keyPrefix}:attempts`, points: options.accountPoints ?? 10, duration: options.accountWindowSeconds ?? 15 * 60 }),
    new RateLimiterRedis({ storeClient: redis, keyPrefix: `${options.keyPrefix}:attempts-ip`, points: options.ipPoints ?? 100, duration: options.ipWindowSeconds ?? 15 * 60 }),
    new RateLimiterRedis({ storeClient: redis, keyPrefix: `${options.keyPrefix}:anonymous-writes-ip`, points: options.anonymousWritesPerIp ?? 1000, duration: options.ipWindowSeconds ?? 15 * 60 }),
  );
}

/**
 * The budget (and lockout) key of a known account's attempts from one bucket: a device known to the account has its
 * own, every other device shares 'untrusted' (DESIGN.md §7: strangers share one budget and cannot spend the owner's).
 */
export const userAccountKey = (userId: string, bucket: string): string => `user:${userId}:${bucket}`;

/** Unknown emails get a budget of their own key, so probing them is throttled without revealing that they are unknown. */
export const unknownAccountKey = (email: string): string => `email:${email}`;

export function accountOfKey(accountKey: string): { userId: string; bucket: string } | null {
  const match = /^user:([^:]+):(.+)$/.exec(accountKey);
  return match ? { userId: match[1]!, bucket: match[2]! } : null;
}

/** Checks run before the budget is spent: the account's lock and back-off (application/lockout.ts), known or not. */
export interface AccountGate {
  check(accountKey: string, standing?: FailureRecord): Promise<void>;
}

/** The seam every path calls: lock and back-off first (refused even with the right secret), then the budgets. */
export function guardedAttemptBudget(budget: AttemptBudget, gate: AccountGate): AttemptBudget {
  return {
    async consume(accountKey, clientAddress, standing) {
      await gate.check(accountKey, standing);
      await budget.consume(accountKey, clientAddress);
    },
    refund: (accountKey, clientAddress) => budget.refund(accountKey, clientAddress),
    consumeAddress: (clientAddress) => budget.consumeAddress(clientAddress),
  };
}

/**
 * Refuses every attempt from a client address while `check` says its range is throttled (attack detection's optional
 * answer, DETECT_THROTTLE_SECONDS): `check` throws RATE_LIMITED, before any budget is spent.
 */
export function throttledAttemptBudget(budget: AttemptBudget, check: (clientAddress: string) => Promise<void>): AttemptBudget {
  return {
    async consume(accountKey, clientAddress, standing) {
      await check(clientAddress);
      await budget.consume(accountKey, clientAddress, standing);
    },
    refund: (accountKey, clientAddress) => budget.refund(accountKey, clientAddress),
    async consumeAddress(clientAddress) {
      await check(clientAddress);
      await budget.consumeAddress(clientAddress);
    },
  };
}
