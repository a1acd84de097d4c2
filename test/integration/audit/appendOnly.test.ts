// Issue 14 item 2: the log is append-only in the database. The trigger refuses UPDATE and DELETE even to the tables'
// owner; the app runs under a role that does not own them (MIGRATION_DATABASE_URL), so it cannot switch the trigger off.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { createApp, type App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { openPostgres, type Db } from '../../../src/db/index.js';
import { ensureRole } from '../../../src/db/roles.js';
import { writeCheckpoint } from '../../../src/eventstore/checkpoints.js';
import { adminUrl, createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const fixedNow = new Date('2026-03-03T10:00:00.000Z');

describe('append-only log under an application role that does not own it', () => {
  let t: TestDatabase;
  let app: App;
  let owner: Db;
  let dataDir: string;
  // Role names are cluster-wide: unique per run, dropped afterwards.
  const suffix = randomBytes(4).toString('hex');
  const ownerRole = `tessera_owner_${suffix}`;
  const appRole = `tessera_app_${suffix}`;
  const as = (role: string): string => {
    const url = new URL(t.url!);
    url.username = role;
    url.password = '';
    return url.toString();
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    // Idempotent, outside the migrations: a second run finds the roles.
    expect(await ensureRole(t.db, ownerRole)).toBe('created');
    expect(await ensureRole(t.db, ownerRole)).toBe('exists');
    expect(await ensureRole(t.db, appRole)).toBe('created');
    await t.db.query(`alter database ${new URL(t.url!).pathname.slice(1)} owner to ${ownerRole}`);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-roles-'));
    const env = { NODE_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: as(appRole), MIGRATION_DATABASE_URL: as(ownerRole) };
    app = await createApp({ config: loadConfig(env), env, reactors: false });
    owner = openPostgres(as(ownerRole), { max: 1 });
  });
  afterAll(async () => {
    await app?.close();
    await owner?.close();
    await t?.drop();
    const admin = postgres((await adminUrl())!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop role if exists ${appRole}`);
    await admin.unsafe(`drop role if exists ${ownerRole}`);
    await admin.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the migrations ran as the owner; the app appends as its own role', async () => {
    const [row] = await app.db.query<{ me: string; owner: string }>(`select current_user as me, (select tableowner from pg_tables where tablename = 'events') as owner`);
    expect(row).toEqual({ me: appRole, owner: ownerRole });
    await app.store.append('user-a1', [{ type: 'RoleGranted', data: { userId: 'a1', role: 'auditor', at: fixedNow.toISOString() } }], { expectedVersion: 0, now: fixedNow });
    expect(await app.store.readStream('user-a1')).toHaveLength(1);
  });

  it('the trigger refuses UPDATE and DELETE on the events, even to the owner', async () => {
    await expect(owner.query(`update events set data = '{}'`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(owner.query(`delete from events`)).rejects.toThrow(/append-only: DELETE refused/);
    // The signed checkpoints and the leaves too (the horizon is cluster-wide: wait until it passes the event).
    for (const deadline = Date.now() + 15_000; !(await writeCheckpoint(app.db, app.auditSigner, fixedNow)) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25));
    await expect(owner.query(`update audit_checkpoints set signature = ''`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(owner.query(`delete from audit_leaves`)).rejects.toThrow(/append-only: DELETE refused/);
    expect((await owner.query(`select count(*)::int as n from events`))[0]).toEqual({ n: 1 });
  });

  it('the application role can neither change the events nor switch the trigger off', async () => {
    await expect(app.db.query(`update events set data = '{}'`)).rejects.toThrow(/permission denied|append-only/);
    await expect(app.db.query(`delete from events`)).rejects.toThrow(/permission denied|append-only/);
    await expect(app.db.query(`alter table events disable trigger events_append_only`)).rejects.toThrow(/must be owner/);
    await expect(app.db.query(`drop trigger events_append_only on events`)).rejects.toThrow(/must be owner/);
    expect((await app.db.query(`select count(*)::int as n from events`))[0]).toEqual({ n: 1 });
  });
});
