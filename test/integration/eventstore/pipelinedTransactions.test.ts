// Transactions on PostgreSQL send BEGIN with their first statement and may send COMMIT with their last
// (src/db/index.ts): neither may ever let a failed statement's transaction commit, or a write escape its transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import type { Queryable } from '../../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.query(`create table pipelined (id int primary key, note text)`);
});
afterAll(async () => t?.drop());

const rows = async (): Promise<number[]> => (await t.db.query<{ id: number }>(`select id from pipelined order by id`)).map((r) => r.id);

describe('pipelined transactions (PostgreSQL)', () => {
  it('a failing statement sent right behind BEGIN rolls back what the transaction wrote before it', async () => {
    await expect(t.db.transaction(async (tx) => {
      await Promise.all([tx.query(`insert into pipelined values (1, 'a')`), tx.query(`insert into pipelined values (1, 'duplicate')`)]);
    })).rejects.toMatchObject({ code: '23505' });
    expect(await rows()).toEqual([]);
  });

  it('queryAndCommit writes and commits in one round trip, and the transaction sends no COMMIT of its own', async () => {
    await t.db.transaction(async (tx) => {
      await tx.query(`insert into pipelined values (2, 'b')`);
      await tx.queryAndCommit!(`insert into pipelined values (3, 'c')`);
    });
    expect(await rows()).toEqual([2, 3]);
  });

  it('queryAndCommit after a failure the caller swallowed throws, and nothing of the transaction is kept', async () => {
    await expect(t.db.transaction(async (tx) => {
      await tx.query(`insert into pipelined values (4, 'd')`);
      await tx.query(`insert into pipelined values (2, 'taken')`).catch(() => {});
      // PostgreSQL answers this COMMIT with ROLLBACK, and no error of its own: the statement fails, and so must the call.
      await tx.queryAndCommit!(`select 1`);
    })).rejects.toThrow();
    expect(await rows()).toEqual([2, 3]);
  });

  it('a failing last statement does not commit, though its COMMIT went out with it', async () => {
    await expect(t.db.transaction(async (tx) => {
      await tx.query(`insert into pipelined values (5, 'e')`);
      await tx.queryAndCommit!(`insert into pipelined values (3, 'taken')`);
    })).rejects.toMatchObject({ code: '23505' });
    expect(await rows()).toEqual([2, 3]);
    // The connection is clean again for the next transaction.
    await t.db.transaction((tx) => tx.query(`insert into pipelined values (6, 'f')`));
    expect(await rows()).toEqual([2, 3, 6]);
  });

  it("generic plans are asked for by a command's transaction alone, and never outlive it on the pooled connection", async () => {
    // One connection: whatever a transaction leaves set on it, the next statement sees.
    const one = await createTestDatabase({ poolSize: 1 });
    try {
      const mode = async (q: Queryable): Promise<string> => (await q.query<{ plan_cache_mode: string }>(`show plan_cache_mode`))[0]!.plan_cache_mode;
      expect(await one.db.transaction((tx) => mode(tx), { genericPlans: true })).toBe('force_generic_plan');
      expect(await mode(one.db)).toBe('auto');
      expect(await one.db.transaction((tx) => mode(tx))).toBe('auto');
      // Rolled back, or committed with the last statement (queryAndCommit): still gone after it.
      await expect(one.db.transaction(async (tx) => {
        expect(await mode(tx)).toBe('force_generic_plan');
        throw new Error('abandoned');
      }, { genericPlans: true })).rejects.toThrow('abandoned');
      expect(await mode(one.db)).toBe('auto');
      await one.db.transaction(async (tx) => { await tx.queryAndCommit!(`select 1`); }, { genericPlans: true });
      expect(await mode(one.db)).toBe('auto');
      // The event store's transactions (every command's) ask for them; the audit log's reads outside them do not.
      const app = await createApp({ config: loadConfig({ NODE_ENV: 'test' }), db: one.db, reactors: false });
      try {
        expect(await app.store.transaction((tx) => mode(tx))).toBe('force_generic_plan');
        expect(await mode(one.db)).toBe('auto');
      } finally {
        await app.close();
      }
    } finally {
      await one.drop();
    }
  });
});
