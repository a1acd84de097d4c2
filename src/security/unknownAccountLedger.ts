// Failures for emails that have no account, kept beside the attempt budget (in memory, or in Redis shared by every
// instance): there is no event stream to count them in, yet the lockout must answer them as it answers real accounts.
// Only a hash of the address is kept.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FailureRecord } from '../domain/user/lockout.js';

export interface UnknownAccountLedger {
  get(accountKey: string): Promise<FailureRecord>;
  /** Counts one more consecutive failure, atomically; returns the new count. */
  recordFailure(accountKey: string, at: Date): Promise<number>;
  lock(accountKey: string, until: string): Promise<void>;
}

/** A real account's count never decays; an unknown email's is kept thirty days after its last failure. */
const retentionSeconds = 30 * 86_400;

const keyOf = (accountKey: string): string => createHash('sha256').update(accountKey).digest('hex').slice(0, 32);

export function createMemoryUnknownAccountLedger(): UnknownAccountLedger {
  const records = new Map<string, FailureRecord & { expiresAt: number }>();
  const live = (accountKey: string) => {
    const entry = records.get(keyOf(accountKey));
    return entry && entry.expiresAt >= Date.now() ? entry : undefined;
  };
  return {
    async get(accountKey) {
      const entry = live(accountKey);
      return { consecutive: entry?.consecutive ?? 0, lastFailureAt: entry?.lastFailureAt ?? null, lockedUntil: entry?.lockedUntil ?? null };
    },
    async recordFailure(accountKey, at) {
      const consecutive = (live(accountKey)?.consecutive ?? 0) + 1;
      records.set(keyOf(accountKey), { consecutive, lastFailureAt: at, lockedUntil: live(accountKey)?.lockedUntil ?? null, expiresAt: Date.now() + retentionSeconds * 1000 });
      return consecutive;
    },
    async lock(accountKey, until) {
      const entry = live(accountKey);
      if (entry) entry.lockedUntil = until;
    },
  };
}

export function createRedisUnknownAccountLedger(redis: Redis, prefix: string): UnknownAccountLedger {
  const key = (accountKey: string): string => `${prefix}:unknown-account:${keyOf(accountKey)}`;
  return {
    async get(accountKey) {
      const h = await redis.hgetall(key(accountKey));
      return { consecutive: Number(h.c ?? 0), lastFailureAt: h.f ? new Date(h.f) : null, lockedUntil: h.l || null };
    },
    async recordFailure(accountKey, at) {
      const k = key(accountKey);
      const [[, consecutive]] = (await redis.multi().hincrby(k, 'c', 1).hset(k, 'f', at.toISOString()).expire(k, retentionSeconds).exec()) as [[null, number], ...unknown[]];
      return Number(consecutive);
    },
    async lock(accountKey, until) {
      await redis.hset(key(accountKey), 'l', until);
    },
  };
}
