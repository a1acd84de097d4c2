// The readers that page through the log in commit order, (tx_id, position), across transaction ids of different
// lengths. They select tx_id as text (an xid8 is 64 bits), and ORDER BY tx_id in such a query sorts that text:
// '100' before '99'. A live cluster crosses 10^6, 10^7, ... transaction ids in its life; a page spanning the crossing
// came out of order, and the next page (after its last row) read some events again and never read others.
//
// Transaction ids cannot be chosen, so the test appends through the store as usual and then, as the database's owner
// with the append-only trigger off, renumbers the four transactions 98, 99, 100, 101 in their commit order (the event
// hashes do not cover tx_id, which the database assigns).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { verifyAuditLog } from '../../../src/application/auditLog.js';
import { loadConfig } from '../../../src/config.js';
import { writeCheckpoint } from '../../../src/eventstore/checkpoints.js';
import type { LogCheckpoint } from '../../../src/eventstore/index.js';
import { verifyLog } from '../../../src/eventstore/verifyLog.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const at = new Date('2026-03-03T10:00:00.000Z');

describe('commit order across transaction ids of different lengths (99, 100)', () => {
  let t: TestDatabase;
  let app: App;
  let dataDir: string;
  let positions: number[];

  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-commit-order-'));
    const env = { NODE_ENV: 'test', DATA_DIR: dataDir };
    app = await createApp({ config: loadConfig(env), db: t.db, env, reactors: false });
    for (let i = 0; i < 4; i++) {
      await app.store.append(`user-o${i}`, [{ type: 'RoleGranted', data: { userId: `o${i}`, role: 'auditor', at: at.toISOString() } }], { expectedVersion: 0, now: at });
    }
    positions = (await t.db.query<{ position: number }>(`select position from events order by position`)).map((r) => Number(r.position));
    expect(positions).toHaveLength(4);
    await t.db.query(`alter table events disable trigger events_append_only`);
    await t.db.query(`update events set tx_id = (97 + position - $1::bigint)::text::xid8`, [positions[0]]);
    await t.db.query(`alter table events enable trigger events_append_only`);
  });
  afterAll(async () => {
    await app?.close();
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('readAll, two events a page, returns each event once, in commit order', async () => {
    const seen: number[] = [];
    for (let after: LogCheckpoint = { txId: '0', position: 0 }, guard = 0; guard < 10; guard++) {
      const page = await app.store.readAll(after, 2);
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.position));
      after = { txId: page.at(-1)!.txId, position: page.at(-1)!.position };
    }
    expect(seen).toEqual(positions);
  });

  it('the verifier, two events a page and no checkpoint yet, checks every event once', async () => {
    const verification = await verifyLog(app.db, { batchSize: 2, verifySignature: () => false });
    expect(verification.breaks).toEqual([]);
    expect(verification).toMatchObject({ ok: true, eventsChecked: 4, checkpointsChecked: 0 });
  });

  it('the checkpointer leafs the events in commit order, and the next checkpoint extends the tree without rereading any', async () => {
    const first = await writeCheckpoint(app.db, app.auditSigner, at);
    expect(first).toMatchObject({ treeSize: 4, lastTxId: '100', lastPosition: positions[3] });
    const leaves = await t.db.query<{ position: number }>(`select position from audit_leaves order by leaf_index`);
    expect(leaves.map((l) => Number(l.position))).toEqual(positions);

    // One more event (a real transaction id, far above 100), once the horizon has passed it.
    await app.store.append('user-o4', [{ type: 'RoleGranted', data: { userId: 'o4', role: 'auditor', at: at.toISOString() } }], { expectedVersion: 0, now: at });
    let second = null;
    for (const deadline = Date.now() + 15_000; !second && Date.now() < deadline; ) {
      second = await writeCheckpoint(app.db, app.auditSigner, at);
      if (!second) await new Promise((r) => setTimeout(r, 25));
    }
    expect(second).toMatchObject({ seq: 2, treeSize: 5 });
    const verification = await verifyAuditLog(app);
    expect(verification.breaks).toEqual([]);
    expect(verification).toMatchObject({ ok: true, eventsChecked: 5 });
  });
});
