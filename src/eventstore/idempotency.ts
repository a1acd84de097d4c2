// Command idempotency keys: a retried command with the same key and payload gets its first result and writes nothing.
import type { Db, Queryable } from '../db/index.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { EventStoreError } from './errors.js';

export class IdempotencyConflictError extends EventStoreError {
  constructor() {
    super('IDEMPOTENCY_CONFLICT', 'this idempotency key was used with a different request');
  }
}

/**
 * Runs `run` once per key. The key row is inserted in the same transaction as the command's events, so a crash
 * leaves either both or neither; a concurrent duplicate waits on the key's row lock and then reads the first result.
 */
export async function withIdempotencyKey<T>(
  db: Db,
  key: string,
  payload: unknown,
  run: (tx: Queryable) => Promise<T>,
): Promise<{ result: T; replayed: boolean }> {
  const requestHash = sha256Hex(canonicalJson(payload));
  return db.transaction(async (tx) => {
    const inserted = await tx.query(
      `insert into idempotency_keys (key, request_hash) values ($1, $2) on conflict (key) do nothing returning key`,
      [key, requestHash],
    );
    if (inserted.length === 0) {
      const [existing] = await tx.query<{ request_hash: string; result: T }>(
        `select request_hash, result from idempotency_keys where key = $1`,
        [key],
      );
      if (existing!.request_hash !== requestHash) throw new IdempotencyConflictError();
      return { result: existing!.result, replayed: true };
    }
    const result = await run(tx);
    await tx.query(`update idempotency_keys set result = $2::text::jsonb where key = $1`, [key, JSON.stringify(result ?? null)]);
    return { result, replayed: false };
  });
}
