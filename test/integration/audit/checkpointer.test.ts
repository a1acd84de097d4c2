// Issue 14: a signed checkpoint every AUDIT_CHECKPOINT_EVERY events and every AUDIT_CHECKPOINT_SECONDS while events
// arrive; appends never wait for it; each checkpoint extends the one before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { checkpointIfDue, startCheckpointer, verifyAuditLog } from '../../../src/application/auditLog.js';
import { loadConfig } from '../../../src/config.js';
import { manualClock } from '../../../src/domain/shared/clock.js';
import type { Queryable } from '../../../src/db/index.js';
import { listCheckpoints, statementHash, uncheckpointedCount } from '../../../src/eventstore/checkpoints.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the checkpointer', () => {
  let t: TestDatabase;
  let app: App;
  let dataDir: string;
  const clock = manualClock(Date.parse('2026-03-03T10:00:00Z'));
  let version = 0;
  const append = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++, version++) {
      await app.store.append('user-c1', [{ type: 'RoleGranted', data: { userId: 'c1', role: `r${version}`, at: clock.now().toISOString() } }], { expectedVersion: version, now: clock.now() });
    }
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-checkpointer-'));
    const env = { NODE_ENV: 'test', DATA_DIR: dataDir, AUDIT_CHECKPOINT_EVERY: '5', AUDIT_CHECKPOINT_SECONDS: '60' };
    app = await createApp({ config: loadConfig(env), db: t.db, env, clock, reactors: false });
  });
  afterAll(async () => {
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs after EVERY events, and after SECONDS for fewer; never without new events', async () => {
    // The first tick after the first event: no checkpoint yet, so the waiting event is as old as can be.
    await append(1);
    const first = await eventually(() => checkpointIfDue(app), (c) => c !== null);
    expect(first).toMatchObject({ seq: 1, treeSize: 1 });

    // Four more: fewer than EVERY and the last checkpoint is fresh: not due.
    await append(4);
    expect(await checkpointIfDue(app)).toBeNull();
    // The fifth: EVERY events wait (once the horizon passes them), so it is due at once, on the same clock.
    await append(1);
    expect(await eventually(() => checkpointIfDue(app), (c) => c !== null)).toMatchObject({ seq: 2, treeSize: 6 });

    // Two more, not due; a minute later they are.
    await append(2);
    expect(await checkpointIfDue(app)).toBeNull();
    clock.advance(60_000);
    const third = await eventually(() => checkpointIfDue(app), (c) => c !== null);
    expect(third).toMatchObject({ seq: 3, treeSize: 8 });

    // No events: no checkpoint, however long.
    clock.advance(600_000);
    expect(await checkpointIfDue(app)).toBeNull();
    const checkpoints = await listCheckpoints(t.db);
    expect(checkpoints.map((c) => c.treeSize)).toEqual([1, 6, 8]);
    expect(checkpoints[2]!.previous).toBe(statementHash(checkpoints[1]!));
    expect(await verifyAuditLog(app)).toMatchObject({ ok: true, checkpointsChecked: 3, treeSize: 8 });
  });

  it('two checkpointers racing never fork the checkpoint chain', async () => {
    const before = (await listCheckpoints(t.db)).length;
    await append(12);
    const racers = [startCheckpointer(app, { pollMs: 5 }), startCheckpointer(app, { pollMs: 5 }), startCheckpointer(app, { pollMs: 5 })];
    try {
      await eventually(() => listCheckpoints(t.db), (c) => c.at(-1)?.treeSize === 20);
    } finally {
      await Promise.all(racers.map((r) => r.stop()));
    }
    const checkpoints = await listCheckpoints(t.db);
    expect(checkpoints.length).toBeGreaterThan(before);
    expect(checkpoints.map((c) => c.seq)).toEqual(checkpoints.map((_, i) => i + 1));
    expect((await verifyAuditLog(app)).ok).toBe(true);
  });
});

describe("the checkpointer's tick on a large log", () => {
  let t: TestDatabase;
  let dataDir: string;
  let generic: postgres.Sql;

  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-checkpointer-plan-'));
    const env = { NODE_ENV: 'test', DATA_DIR: dataDir };
    const app = await createApp({ config: loadConfig(env), db: t.db, env, reactors: false });
    // 50,000 events, written as rows (only the plan matters here, not their chains), with statistics.
    await app.db.query(`insert into events (stream_id, version, type, data, metadata, recorded_at, prev_hash, hash)
      select 'user-p' || g, 1, 'RoleGranted', '{}', '{}', now(), repeat('0', 64), repeat('0', 64) from generate_series(1, 50000) g`);
    await app.db.query('analyze events');
    // A connection whose prepared statements all run on their generic plan, as PostgreSQL may decide for any of them
    // after five executions.
    generic = postgres(t.url!, { max: 1, onnotice: () => {}, connection: { plan_cache_mode: 'force_generic_plan' } });
  });
  afterAll(async () => {
    await generic?.end();
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts the waiting events through the index, never by scanning the log, even on a generic plan', async () => {
    const q: Queryable = { query: async (text, params = []) => (await generic.unsafe(text, params as never[], { prepare: true })) as never };
    const sequentialScans = async (): Promise<number> => {
      await generic.unsafe('select pg_stat_force_next_flush()');
      const [row] = await generic.unsafe<Array<{ n: string }>>(`select seq_scan::text as n from pg_stat_user_tables where relname = 'events'`);
      return Number(row!.n);
    };
    const before = await sequentialScans();
    for (let i = 0; i < 3; i++) expect(await uncheckpointedCount(q, 1000)).toBe(1000);
    expect(await sequentialScans()).toBe(before);
  });
});
