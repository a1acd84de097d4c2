// Issue 14: every attack on the log is detected, live and on an export, naming its kind and where it shows.
// The attacker has the database: the append-only trigger switched off, as a superuser can (session_replication_role).
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { consistencyProof, exportAuditLog, inclusionProof, verifyAuditLog } from '../../../src/application/auditLog.js';
import { loadConfig } from '../../../src/config.js';
import { parsePublicKey, verifySignature } from '../../../src/crypto/auditSigning.js';
import { uncheckpointedCount, writeCheckpoint, type StoredCheckpoint, listCheckpoints } from '../../../src/eventstore/checkpoints.js';
import { earlierExport, verifyExport } from '../../../src/eventstore/exportFile.js';
import { eventHash, genesisHash } from '../../../src/eventstore/hashChain.js';
import { eventLeaf, verifyConsistency, verifyInclusion } from '../../../src/eventstore/merkle.js';
import { verifyLog, type KnownTreeHead } from '../../../src/eventstore/verifyLog.js';
import type { NewEvent } from '../../../src/eventstore/index.js';
import { liveSchema } from '../../../src/projections/index.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const fixedNow = new Date('2026-03-03T10:00:00.000Z');
const signingKey = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');
const publicPem = signingKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const otherPublicPem = otherKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const users = ['u1', 'u2', 'u3', 'u4'];

function event(userId: string, version: number): NewEvent {
  return version === 1
    ? { type: 'UserRegistered', data: { userId, email: `${userId}@example.com`, passwordHash: 'x', at: fixedNow.toISOString() } }
    : { type: 'RoleGranted', data: { userId, role: `role${version}`, at: fixedNow.toISOString() } };
}

const withKey = (pem: string) => {
  const key = parsePublicKey(pem);
  return (statement: string, signature: string): boolean => verifySignature(key, statement, signature);
};

describe('tamper evidence: stream chains and signed checkpoints', () => {
  let t: TestDatabase;
  let app: App;
  let dataDir: string;
  let cp1: StoredCheckpoint;
  let cp2: StoredCheckpoint;
  const versions = new Map<string, number>();

  /** The attacker's write: triggers off for this transaction only. */
  const tamper = (text: string, params: unknown[] = []): Promise<void> =>
    t.db.transaction(async (tx) => {
      await tx.query(`set local session_replication_role = replica`);
      await tx.query(text, params);
    });
  const append = async (userId: string, n = 1): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const v = versions.get(userId) ?? 0;
      await app.store.append(`user-${userId}`, [event(userId, v + 1)], { expectedVersion: v, now: fixedNow, metadata: { actor: userId } });
      versions.set(userId, v + 1);
    }
  };
  /**
   * One checkpoint over every committed event: waits until the horizon has passed them all first (it is cluster-wide, so
   * another test's open transaction may hold it back), so each call signs exactly one new tree.
   */
  const checkpointAll = async (): Promise<StoredCheckpoint> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [{ waiting }] = (await t.db.query<{ waiting: number }>(
        `select count(*)::int as waiting from events e where not exists (select 1 from audit_leaves l where l.position = e.position)`)) as [{ waiting: number }];
      if (waiting === await uncheckpointedCount(t.db, 1_000_000) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await writeCheckpoint(t.db, app.auditSigner, fixedNow);
    return (await listCheckpoints(t.db)).at(-1)!;
  };
  const exportText = async (options: { userId?: string } = {}): Promise<string> => {
    const lines: string[] = [];
    await exportAuditLog(app, options, (line) => void lines.push(line));
    return lines.join('');
  };
  const leafOf = async (position: number): Promise<number> =>
    Number((await t.db.query<{ leaf_index: number }>(`select leaf_index from audit_leaves where position = $1`, [position]))[0]!.leaf_index);
  const positionsOf = async (userId: string): Promise<number[]> =>
    (await t.db.query<{ position: number }>(`select position from events where stream_id = $1 order by version`, [`user-${userId}`])).map((r) => Number(r.position));
  /** Both views of the same log: live, and an export verified offline with the public key. */
  const verifyBoth = async (known?: KnownTreeHead) => ({
    live: await verifyAuditLog(app, known),
    file: await verifyExport(await exportText(), withKey(publicPem), { knownTreeHead: known }),
  });

  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-audit-'));
    const env = { NODE_ENV: 'test', DATA_DIR: dataDir, AUDIT_SIGNING_KEY: signingKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    app = await createApp({ config: loadConfig(env), db: t.db, reactors: false, env });
  });
  afterAll(async () => {
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  // Two checkpoints, then events no checkpoint covers yet.
  beforeEach(async () => {
    const projections = app.projections.projectors.flatMap((p) => p.tables.map((tbl) => `${liveSchema}.${tbl.name}`));
    await t.db.query(`truncate events, streams, audit_leaves, audit_checkpoints, ${projections.join(', ')} restart identity`);
    versions.clear();
    for (let round = 0; round < 3; round++) for (const u of users) await append(u);
    cp1 = await checkpointAll();
    for (let round = 0; round < 3; round++) for (const u of users) await append(u);
    cp2 = await checkpointAll();
    await append('u1', 2);
  });

  it('an intact log verifies live and on an export; the checkpoints chain and cover every event', async () => {
    expect([cp1.seq, cp1.treeSize, cp2.seq, cp2.treeSize]).toEqual([1, 12, 2, 24]);
    expect(cp2.keyId).toBe(app.auditSigner.keyId);
    const { live, file } = await verifyBoth({ treeSize: cp2.treeSize, root: cp2.root });
    expect(live).toMatchObject({ ok: true, eventsChecked: 26, checkpointsChecked: 2, treeSize: 24, breaks: [] });
    expect(file).toMatchObject({ ok: true, eventsChecked: 26, checkpointsChecked: 2, firstBreak: null });
    // Appends never wrote a leaf: only the checkpointer does.
    expect(await uncheckpointedCount(t.db, 100)).toBe(2);
  });

  it('EDITED: one event\'s data changed, at its position (and its export line)', async () => {
    const target = (await positionsOf('u3'))[1]!;
    await tamper(`update events set data = jsonb_set(data, '{role}', '"admin"') where position = $1`, [target]);
    const { live, file } = await verifyBoth();
    expect(live.breaks[0]).toMatchObject({ kind: 'EDITED', position: target, streamId: 'user-u3', version: 2 });
    expect(file.firstBreak).toMatchObject({ kind: 'EDITED', position: target });
    expect(file.firstBreak!.line).toBe((await exportText()).split('\n').findIndex((l) => l.includes(`"position":${target},`)) + 1);
  });

  it('EDITED over a checkpoint range: the event edited and its stream\'s chain and head recomputed', async () => {
    const kept = earlierExport(await exportText()); // the auditor's copy from before the attack
    const events = await app.store.readStream('user-u2');
    const edited = events[1]!;
    let prevHash = events[0]!.hash;
    for (const e of events.slice(1)) {
      const data = e.position === edited.position ? { ...e.data, role: 'admin' } : e.data;
      const hash = eventHash({ ...e, data, prevHash });
      await tamper(`update events set data = $2::text::jsonb, prev_hash = $3, hash = $4 where position = $1`, [e.position, JSON.stringify(data), prevHash, hash]);
      prevHash = hash;
    }
    await tamper(`update streams set head_hash = $2 where stream_id = $1`, ['user-u2', prevHash]);
    const { live, file } = await verifyBoth();
    expect(live.ok).toBe(false);
    // No chain shows it: only the signed root of the checkpoint that covers the edited leaf.
    expect(live.breaks.filter((b) => b.position !== undefined)).toEqual([]);
    expect(await leafOf(edited.position)).toBeLessThan(cp1.treeSize);
    expect(live.breaks[0]).toMatchObject({ kind: 'EDITED', fromTreeSize: 0, toTreeSize: cp1.treeSize, checkpointSeq: 1 });
    expect(file.breaks.find((b) => b.kind === 'EDITED')).toMatchObject({ fromTreeSize: 0, toTreeSize: cp1.treeSize, checkpointSeq: 1 });
    // With the export the auditor kept, the range narrows to the event: the first leaf that differs from it.
    const named = await verifyAuditLog(app, kept.knownTreeHead, kept.leaves);
    expect(named.breaks[0]).toMatchObject({ kind: 'EDITED', position: edited.position, fromTreeSize: 0, toTreeSize: cp1.treeSize, checkpointSeq: 1 });
    const namedOffline = await verifyExport(await exportText(), withKey(publicPem), { knownTreeHead: kept.knownTreeHead, earlierLeaves: kept.leaves });
    expect(namedOffline.breaks.find((b) => b.kind === 'EDITED')).toMatchObject({ position: edited.position, checkpointSeq: 1 });
  });

  it('DELETED: one signed event removed, at its position', async () => {
    const target = (await positionsOf('u4'))[2]!;
    const leaf = await leafOf(target);
    await tamper(`delete from events where position = $1`, [target]);
    const { live, file } = await verifyBoth();
    expect(live.breaks[0]).toMatchObject({ kind: 'DELETED', position: target, streamId: 'user-u4', fromTreeSize: leaf, toTreeSize: leaf + 1 });
    expect(file.firstBreak).toMatchObject({ kind: 'DELETED', position: target });
    // And an export with the event's line cut out names the gap in the leaves.
    const clean = (await exportText()).split('\n').filter((l) => !l.startsWith('{"kind":"leaf"')).join('\n');
    const cut = await verifyExport(clean, withKey(publicPem));
    expect(cut.firstBreak).toMatchObject({ kind: 'DELETED', streamId: 'user-u4', version: 4 });
    expect(cut.breaks).toContainEqual(expect.objectContaining({ kind: 'DELETED', fromTreeSize: leaf, toTreeSize: leaf + 1 }));
  });

  it('MISSING_STREAM: a whole stream and its head deleted', async () => {
    const positions = await positionsOf('u2');
    await tamper(`delete from events where stream_id = 'user-u2'`);
    await tamper(`delete from streams where stream_id = 'user-u2'`);
    const { live, file } = await verifyBoth();
    expect(live.breaks[0]).toMatchObject({ kind: 'MISSING_STREAM', position: positions[0], streamId: 'user-u2' });
    expect(file.firstBreak).toMatchObject({ kind: 'MISSING_STREAM', position: positions[0], streamId: 'user-u2' });
  });

  it('REORDERED: two events of a stream swapped', async () => {
    const [, x, y] = await positionsOf('u3');
    await tamper(
      `update events e set data = o.data, type = o.type from events o where (e.position, o.position) in (($1::bigint, $2::bigint), ($2::bigint, $1::bigint))`,
      [x, y],
    );
    const { live, file } = await verifyBoth();
    expect(live.breaks[0]).toMatchObject({ kind: 'REORDERED', position: x, streamId: 'user-u3' });
    expect(file.firstBreak).toMatchObject({ kind: 'REORDERED', position: x });
  });

  it('INSERTED: an event written into the range a checkpoint signed', async () => {
    const position = 900_000;
    const forged = { prevHash: genesisHash, streamId: 'user-forged', version: 1, type: 'RoleGranted', data: { userId: 'forged', role: 'admin', at: fixedNow.toISOString() }, metadata: {}, recordedAt: fixedNow, position, hashVersion: 2 };
    // A low transaction id puts it inside the signed range; the trigger does not stop inserts, the checkpoints do.
    await t.db.query(
      `insert into events (position, tx_id, stream_id, version, type, data, metadata, recorded_at, prev_hash, hash, hash_version) overriding system value
       values ($1, '3'::xid8, $2, 1, $3, $4::text::jsonb, '{}', $5, $6, $7, 2)`,
      [position, forged.streamId, forged.type, JSON.stringify(forged.data), fixedNow.toISOString(), genesisHash, eventHash(forged)],
    );
    await t.db.query(`insert into streams (stream_id, version, head_hash) values ('user-forged', 1, $1)`, [eventHash(forged)]);
    const { live, file } = await verifyBoth();
    expect(live.breaks[0]).toMatchObject({ kind: 'INSERTED', position, streamId: 'user-forged' });
    expect(file.firstBreak).toMatchObject({ kind: 'INSERTED', position });
  });

  it('TRUNCATED: the last signed events removed', async () => {
    const lastLeaves = await t.db.query<{ position: number }>(`select position from audit_leaves where leaf_index >= $1`, [cp2.treeSize - 3]);
    await tamper(`delete from events where position = any($1::bigint[])`, [lastLeaves.map((r) => r.position)]);
    const { live, file } = await verifyBoth();
    expect(live.breaks[0]).toMatchObject({ kind: 'TRUNCATED', fromTreeSize: cp2.treeSize - 3, toTreeSize: cp2.treeSize });
    expect(file.firstBreak).toMatchObject({ kind: 'TRUNCATED', fromTreeSize: cp2.treeSize - 3, toTreeSize: cp2.treeSize });
    // Leaves gone as well: the signed tree size still says how far the log went.
    await tamper(`delete from audit_leaves where leaf_index >= $1`, [cp2.treeSize - 3]);
    expect((await verifyAuditLog(app)).breaks.find((b) => b.checkpointSeq === 2)).toMatchObject({ kind: 'TRUNCATED', fromTreeSize: cp2.treeSize - 3, toTreeSize: cp2.treeSize });
  });

  it('TRUNCATED then FORKED: the log rolled back behind the checkpoint an auditor kept, then grown again', async () => {
    const kept = { treeSize: cp2.treeSize, root: cp2.root };
    await tamper(`delete from events where (tx_id, position) > ($1::xid8, $2::bigint)`, [cp1.lastTxId, cp1.lastPosition]);
    await tamper(`delete from audit_leaves where leaf_index >= $1`, [cp1.treeSize]);
    await tamper(`delete from audit_checkpoints where seq > 1`);
    await tamper(`update streams s set version = e.version, head_hash = e.hash from (select distinct on (stream_id) stream_id, version, hash from events order by stream_id, version desc) e where e.stream_id = s.stream_id`);
    // Without the kept checkpoint the rolled-back log is self-consistent: that is why the auditor keeps one.
    expect((await verifyAuditLog(app)).ok).toBe(true);
    const rolledBack = await verifyBoth(kept);
    expect(rolledBack.live.breaks[0]).toMatchObject({ kind: 'TRUNCATED', fromTreeSize: cp1.treeSize, toTreeSize: cp2.treeSize });
    expect(rolledBack.file.firstBreak).toMatchObject({ kind: 'TRUNCATED', fromTreeSize: cp1.treeSize, toTreeSize: cp2.treeSize });
    // The server goes on signing a different history of at least the kept size: not an extension of what was kept.
    for (const u of users) versions.set(u, Number((await t.db.query<{ version: number }>(`select version from streams where stream_id = $1`, [`user-${u}`]))[0]!.version));
    for (let round = 0; round < 4; round++) for (const u of users) await append(u);
    await checkpointAll();
    const forked = await verifyBoth(kept);
    expect(forked.live.breaks[0]).toMatchObject({ kind: 'FORKED', toTreeSize: cp2.treeSize });
    expect(forked.file.firstBreak).toMatchObject({ kind: 'FORKED', toTreeSize: cp2.treeSize });
  });

  it('BAD_SIGNATURE: a checkpoint\'s signature replaced, named with its range', async () => {
    await tamper(`update audit_checkpoints set signature = (select signature from audit_checkpoints where seq = 1) where seq = 2`);
    const { live, file } = await verifyBoth();
    expect(live.breaks[0]).toMatchObject({ kind: 'BAD_SIGNATURE', checkpointSeq: 2, fromTreeSize: cp1.treeSize, toTreeSize: cp2.treeSize });
    expect(file.firstBreak).toMatchObject({ kind: 'BAD_SIGNATURE', checkpointSeq: 2 });
    expect(file.firstBreak!.line).toBe(3); // header, checkpoint 1, checkpoint 2
  });

  it('BAD_SIGNATURE: verified with the wrong public key', async () => {
    const live = await verifyLog(t.db, { verifySignature: withKey(otherPublicPem) });
    expect(live.breaks.map((b) => [b.kind, b.checkpointSeq])).toEqual([['BAD_SIGNATURE', 1], ['BAD_SIGNATURE', 2]]);
    const file = await verifyExport(await exportText(), withKey(otherPublicPem));
    expect(file.firstBreak).toMatchObject({ kind: 'BAD_SIGNATURE', checkpointSeq: 1, line: 2 });
  });

  it('a filtered export carries an inclusion proof per signed event; one flipped bit fails it', async () => {
    const text = await exportText({ userId: 'u3' });
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const events = lines.filter((l) => l.kind === 'event');
    expect(events.map((e) => e.streamId)).toEqual(Array(6).fill('user-u3'));
    expect(events.every((e) => e.proof?.treeSize === cp2.treeSize)).toBe(true);
    expect(await verifyExport(text, withKey(publicPem))).toMatchObject({ ok: true, eventsChecked: 6 });
    // One bit of one proof hash.
    const flipped = lines.map((l, i) => (i === lines.indexOf(events[2]) ? { ...l, proof: { ...l.proof, hashes: [l.proof.hashes[0].replace(/^./, (c: string) => (c === '0' ? '1' : '0')), ...l.proof.hashes.slice(1)] } } : l));
    const broken = await verifyExport(flipped.map((l) => JSON.stringify(l)).join('\n'), withKey(publicPem));
    expect(broken.firstBreak).toMatchObject({ kind: 'EDITED', position: events[2].position, line: lines.indexOf(events[2]) + 1 });
    // One changed value of one event, its hash recomputed to match: the proof no longer includes it.
    const forged = { ...events[1], data: { ...events[1].data, role: 'admin' } };
    forged.hash = eventHash({ ...forged, recordedAt: new Date(forged.recordedAt) });
    const swapped = lines.map((l) => (l === events[1] ? forged : l));
    expect((await verifyExport(swapped.map((l) => JSON.stringify(l)).join('\n'), withKey(publicPem))).firstBreak).toMatchObject({ kind: 'EDITED', position: events[1].position });
  });

  it('inclusion and consistency proofs from the live log verify against the signed roots, and fail on one bit', async () => {
    const position = (await positionsOf('u2'))[4]!;
    const inclusion = await inclusionProof(app, position);
    const hashes = inclusion.hashes.map((h) => Buffer.from(h, 'hex'));
    expect(inclusion).toMatchObject({ treeSize: cp2.treeSize, root: cp2.root, leafIndex: await leafOf(position) });
    expect(verifyInclusion(eventLeaf(inclusion.eventHash), inclusion.leafIndex, inclusion.treeSize, hashes, Buffer.from(cp2.root, 'hex'))).toBe(true);
    const bit = Buffer.from(hashes[0]!);
    bit[31]! ^= 1;
    expect(verifyInclusion(eventLeaf(inclusion.eventHash), inclusion.leafIndex, inclusion.treeSize, [bit, ...hashes.slice(1)], Buffer.from(cp2.root, 'hex'))).toBe(false);

    const consistency = await consistencyProof(app, cp1.treeSize, cp2.treeSize);
    expect(consistency).toMatchObject({ fromRoot: cp1.root, toRoot: cp2.root, fromCheckpoint: { seq: 1 }, toCheckpoint: { seq: 2 } });
    const proof = consistency.hashes.map((h) => Buffer.from(h, 'hex'));
    expect(verifyConsistency(cp1.treeSize, cp2.treeSize, Buffer.from(cp1.root, 'hex'), Buffer.from(cp2.root, 'hex'), proof)).toBe(true);
    const flipped = Buffer.from(proof.at(-1)!);
    flipped[0]! ^= 0x80;
    expect(verifyConsistency(cp1.treeSize, cp2.treeSize, Buffer.from(cp1.root, 'hex'), Buffer.from(cp2.root, 'hex'), [...proof.slice(0, -1), flipped])).toBe(false);
  });

  it('tessera audit export and tessera audit verify --file --public-key: exit 0 intact, 1 with the first broken line', async () => {
    const out = path.join(dataDir, 'export.jsonl');
    const keyFile = path.join(dataDir, 'audit.pub');
    const env = { ...process.env, NODE_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: t.url!, LOG_LEVEL: 'silent', AUDIT_SIGNING_KEY: signingKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const cli = (...args: string[]) => new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', (code) => resolve({ code, stdout }));
    });
    const publicKey = await cli('audit', 'public-key');
    expect(publicKey.stdout).toBe(publicPem);
    fs.writeFileSync(keyFile, publicKey.stdout);
    expect((await cli('audit', 'export', '--out', out)).code).toBe(0);
    expect(await cli('audit', 'verify', '--file', out, '--public-key', keyFile)).toMatchObject({ code: 0 });
    const lines = fs.readFileSync(out, 'utf8').split('\n');
    const index = lines.findIndex((l) => l.includes('"type":"RoleGranted"'));
    lines[index] = lines[index]!.replace(/"role":"role\d+"/, '"role":"admin"');
    fs.writeFileSync(out, lines.join('\n'));
    const broken = await cli('audit', 'verify', '--file', out, '--public-key', keyFile);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout).firstBreak).toMatchObject({ kind: 'EDITED', line: index + 1 });
    expect((await cli('audit', 'verify')).code).toBe(0);
  }, 60_000);
});
