// Issue 14 item 0: "one migration converts existing events, recording a hash version per event so old and new events
// both verify". A log written before sealing (clear email, address and user agent; email streams named by SHA-256) is
// converted at start-up: sealed, renamed, re-chained; the events it did not need to change keep their hash version.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { createCheckpoint, verifyAuditLog } from '../../../src/application/auditLog.js';
import { convertPersonalData } from '../../../src/application/personalDataConversion.js';
import { loadConfig } from '../../../src/config.js';
import { eventHash, genesisHash } from '../../../src/eventstore/hashChain.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

describe('the personal data conversion', () => {
  let t: TestDatabase;
  let app: App;
  let dataDir: string;
  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-conversion-'));
    const env = { NODE_ENV: 'test', DATA_DIR: dataDir };
    app = await createApp({ config: loadConfig(env), db: t.db, env, reactors: false });
  });
  afterAll(async () => {
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Writes events as the code before sealing did: clear data and metadata, hash version 2 (or 1). */
  async function legacyStream(streamId: string, events: Array<{ type: string; data: Record<string, unknown>; metadata: Record<string, unknown>; hashVersion: number }>): Promise<void> {
    let prevHash = genesisHash;
    let version = 0;
    for (const e of events) {
      version++;
      const [{ p }] = (await t.db.query<{ p: number }>(`select nextval(pg_get_serial_sequence('events', 'position')) as p`)) as [{ p: number }];
      const recordedAt = new Date('2026-01-02T03:04:05.000Z');
      const hash = eventHash({ prevHash, streamId, version, type: e.type, data: e.data, metadata: e.metadata, recordedAt, position: Number(p), hashVersion: e.hashVersion });
      await t.db.query(
        `insert into events (position, stream_id, version, type, data, metadata, recorded_at, prev_hash, hash, hash_version) overriding system value
         values ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7, $8, $9, $10)`,
        [p, streamId, version, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), recordedAt.toISOString(), prevHash, hash, e.hashVersion],
      );
      prevHash = hash;
    }
    await t.db.query(`insert into streams (stream_id, version, head_hash) values ($1, $2, $3)`, [streamId, version, prevHash]);
  }

  it('seals an old plaintext event, renames its email stream, re-chains, and old and new events both verify', async () => {
    const userId = randomUUID();
    const email = `legacy.${userId.slice(0, 8)}@conversion.example.org`;
    const meta = { actor: userId, correlationId: 'c1', ip: '203.0.113.201', userAgent: 'LegacyAgent/7.7' };
    const sha = createHash('sha256').update(email).digest('hex');
    await legacyStream(`user-${userId}`, [
      { type: 'UserRegistered', data: { userId, email, passwordHash: null, at: '2026-01-02T03:04:05.000Z' }, metadata: meta, hashVersion: 2 },
      { type: 'RoleGranted', data: { userId, role: 'auditor', at: '2026-01-02T03:04:05.000Z' }, metadata: { actor: 'system' }, hashVersion: 2 },
    ]);
    await legacyStream(`email-${sha.slice(0, 40)}`, [{ type: 'EmailClaimed', data: { userId, at: '2026-01-02T03:04:05.000Z' }, metadata: meta, hashVersion: 1 }]);
    await legacyStream('device-untouched', [{ type: 'DeviceTrustRevoked', data: { deviceId: 'untouched', userId: 'nobody', reason: 'admin', at: '2026-01-02T03:04:05.000Z' }, metadata: { actor: 'system' }, hashVersion: 2 }]);
    const untouched = await t.db.query<{ hash: string }>(`select hash from events where stream_id = 'device-untouched'`);
    // The horizon is cluster-wide: another database's open transaction can hold the first attempt back.
    let signed = await createCheckpoint(app);
    for (let i = 0; i < 100 && !signed; i++) signed = await new Promise((r) => setTimeout(r, 50)).then(() => createCheckpoint(app));
    expect(signed).not.toBeNull();
    expect(await verifyAuditLog(app)).toMatchObject({ ok: true });

    // The conversion as start-up runs it (this database's was recorded, with nothing to do, when it was created).
    await t.db.query(`delete from code_migrations`);
    app.personalData.forget();
    const result = await convertPersonalData(t.db, app.personalData);
    expect(result).toMatchObject({ events: 2, discardedCheckpoints: 1 });

    const dump = JSON.stringify(await t.db.query(`select stream_id, data, metadata from events`)) + JSON.stringify(await t.db.query(`select * from streams`));
    for (const trace of [email, sha, sha.slice(0, 40), meta.ip, meta.userAgent]) expect(dump).not.toContain(trace);
    const rows = await t.db.query<{ stream_id: string; type: string; hash_version: number; hash: string }>(`select stream_id, type, hash_version, hash from events order by position`);
    expect(rows.map((r) => [r.type, r.hash_version])).toEqual([['UserRegistered', 3], ['RoleGranted', 2], ['EmailClaimed', 3], ['DeviceTrustRevoked', 2]]);
    expect(rows[2]!.stream_id).toBe(`email-${app.personalData.hashes.email(email)}`);
    expect(rows[3]!.hash).toBe(untouched[0]!.hash);
    // Readers see the clear values, as before.
    const [registered] = await app.store.readStream(`user-${userId}`);
    expect(registered!.data.email).toBe(email);
    expect(registered!.metadata).toMatchObject({ ip: meta.ip, userAgent: meta.userAgent });

    expect(await verifyAuditLog(app)).toMatchObject({ ok: true });
    await createCheckpoint(app);
    expect(await verifyAuditLog(app)).toMatchObject({ ok: true });
    // Once only.
    expect(await convertPersonalData(t.db, app.personalData)).toMatchObject({ events: 0 });
  });
});
