// account_failures' batch form (a rebuild's, src/projections/accountFailures.ts) must leave exactly the rows its
// one-by-one statements leave: counts reset then counted again, rows created by their first failure or lock, locks
// set and lifted, on rows that existed before the batch and on rows it creates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/eventstore/index.js';
import { accountFailuresProjector } from '../../../src/projections/accountFailures.js';
import { runStatements } from '../../../src/projections/runner.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  for (const schema of ['one_by_one', 'batched']) {
    await t.db.exec(`create schema ${schema}; ${accountFailuresProjector.ddl(schema)}`);
  }
});
afterAll(async () => t?.drop());

let position = 0;
function event(type: string, data: Record<string, unknown>, bucket?: string): RecordedEvent {
  position++;
  return {
    position, txId: '1', streamId: `x-${position}`, version: 1, type, data: { at: new Date(Date.UTC(2026, 0, 1, 0, 0, position)).toISOString(), ...data },
    metadata: bucket ? { attemptBucket: bucket } : {}, recordedAt: new Date(), prevHash: '', hash: '', hashVersion: 3,
  };
}
const fail = (userId: string, bucket?: string) => event('PasswordRejected', { userId }, bucket);
const success = (userId: string, bucket?: string) => event('LoginCompleted', { userId, flowId: 'f' }, bucket);
const lock = (userId: string, bucket: string, until: string) => event('UserLocked', { userId, bucket, until, failures: 5 });
const unlock = (userId: string, bucket: string) => event('UserUnlocked', { userId, by: 'timeout', bucket });

async function apply(events: RecordedEvent[]): Promise<void> {
  // The projector's events are typed by their union; these are built by hand.
  const project = accountFailuresProjector.project as unknown as (e: RecordedEvent, s: string) => { text: string; params: unknown[] }[];
  const batch = accountFailuresProjector.projectBatch as unknown as (e: RecordedEvent[], s: string) => { text: string; params: unknown[] }[];
  await t.db.transaction((tx) => runStatements(tx, events.flatMap((e) => project(e, 'one_by_one')), true));
  await t.db.transaction((tx) => runStatements(tx, batch(events, 'batched'), true));
}
const rows = (schema: string) => t.db.query(`select user_id, bucket, consecutive, last_failure_at, locked_until from ${schema}.account_failures order by user_id, bucket`);
/** Events of other accounts around the ones under test, as in a rebuild's batch. */
const filler = (n: number) => Array.from({ length: n }, (_, i) => fail(`filler-${i % 7}`, i % 2 ? 'device-a' : undefined));

describe('account_failures, batched as a rebuild replays it', () => {
  it('leaves the rows the one-by-one statements leave, on rows from before the batch and on rows it creates', async () => {
    // Before: counts on existing rows, a lock on one bucket.
    await apply([...filler(70), fail('u1'), fail('u1'), fail('u1'), fail('u2', 'device-a'), lock('u3', 'untrusted', '2026-02-01T00:00:00.000Z'), fail('u4')]);
    // The batch: reset then counted again; reset alone; a lock lifted; rows that only exist after a reset (none made),
    // or after their first failure or lock.
    await apply([
      ...filler(70),
      fail('u1'), success('u1'), fail('u1'),
      success('u2', 'device-a'),
      unlock('u3', 'untrusted'), fail('u3'),
      success('u5'), fail('u5'), fail('u5'),
      success('u6'),
      unlock('u7', 'untrusted'), lock('u7', 'untrusted', '2026-03-01T00:00:00.000Z'),
      lock('u8', 'device-b', '2026-03-01T00:00:00.000Z'), unlock('u8', 'device-b'),
      fail('u4'), fail('u4'),
      // A user-wide unlock in the middle of the batch: every bucket of u9, the ones before it in the batch included.
      fail('u9'), fail('u9', 'device-a'), event('UserUnlocked', { userId: 'u9', by: 'admin' }), fail('u9'),
    ]);
    const batched = await rows('batched');
    expect(batched).toEqual(await rows('one_by_one'));
    const row = (user: string, bucket = 'untrusted') => batched.find((r) => r.user_id === user && r.bucket === bucket);
    expect(row('u1')?.consecutive).toBe(1);
    expect(row('u2', 'device-a')?.consecutive).toBe(0);
    expect(row('u3')?.locked_until).toBeNull();
    expect(row('u4')?.consecutive).toBe(3);
    expect(row('u5')?.consecutive).toBe(2);
    expect(row('u6')).toBeUndefined();
    expect(row('u7')?.locked_until).toEqual(new Date('2026-03-01T00:00:00.000Z'));
    expect(row('u8', 'device-b')?.locked_until).toBeNull();
    expect(row('u9')?.consecutive).toBe(1);
    expect(row('u9', 'device-a')?.consecutive).toBe(0);
  });
});
