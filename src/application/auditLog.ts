// The auditor's proofs (issue 14): signed checkpoints on a schedule and on demand, verification of the live log,
// inclusion and consistency proofs, and the offline export. Transports (GraphQL, CLI) call these and nothing else.
import type { AuditRow } from '../projections/audit.js';
import { parsePublicKey, verifySignature } from '../crypto/auditSigning.js';
import type { Queryable } from '../db/index.js';
import {
  checkpointAtSize, latestCheckpoint, listCheckpoints, uncheckpointedCount, writeCheckpoint, type Checkpoint, type StoredCheckpoint,
} from '../eventstore/checkpoints.js';
import { eventColumns, toRecordedEvent } from '../eventstore/eventStore.js';
import { MerkleTree, eventLeaf } from '../eventstore/merkle.js';
import { verifyLog, type KnownTreeHead, type LogVerification } from '../eventstore/verifyLog.js';
import { exportLine, type ExportLine } from '../eventstore/exportFile.js';
import { liveSchema } from '../projections/projector.js';
import { DomainError } from '../domain/shared/errors.js';
import type { Deps } from './deps.js';

type CheckpointDeps = Pick<Deps, 'db' | 'auditSigner' | 'clock'>;

/** `tessera audit checkpoint`: signs the events committed since the last checkpoint; the latest one when none are new. */
export async function createCheckpoint(deps: CheckpointDeps): Promise<StoredCheckpoint | null> {
  return (await writeCheckpoint(deps.db, deps.auditSigner, deps.clock.now())) ?? latestCheckpoint(deps.db);
}

/**
 * Every AUDIT_CHECKPOINT_EVERY events and every AUDIT_CHECKPOINT_SECONDS while events arrive. It polls (one indexed
 * count of at most EVERY rows a second) instead of hooking the appends, which then share nothing with it.
 */
export function startCheckpointer(deps: CheckpointDeps & Pick<Deps, 'config' | 'logger'>, options: { pollMs?: number } = {}): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(() => checkpointIfDue(deps)).catch((error: unknown) => deps.logger.error({ err: error }, 'audit checkpoint failed'));
  }, options.pollMs ?? 1000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** One tick of the checkpointer: signs when EVERY events wait below the horizon, or SECONDS passed with some waiting. */
export async function checkpointIfDue(deps: CheckpointDeps & Pick<Deps, 'config'>): Promise<StoredCheckpoint | null> {
  const { checkpointEvery, checkpointSeconds } = deps.config.audit;
  const waiting = await uncheckpointedCount(deps.db, checkpointEvery);
  if (waiting === 0) return null;
  const last = await latestCheckpoint(deps.db);
  const age = last ? deps.clock.now().getTime() - last.at.getTime() : Infinity;
  if (waiting < checkpointEvery && age < checkpointSeconds * 1000) return null;
  return writeCheckpoint(deps.db, deps.auditSigner, deps.clock.now());
}

/** The live log against this server's own public key; `known` is a tree head the auditor kept (catches a rollback). */
export async function verifyAuditLog(
  deps: Pick<Deps, 'db' | 'auditSigner'>, known?: KnownTreeHead, earlierLeaves?: ReadonlyMap<number, { position: number; hash: string }>,
): Promise<LogVerification> {
  const publicKey = parsePublicKey(deps.auditSigner.publicKeyPem);
  return verifyLog(deps.db, { verifySignature: (statement, signature) => verifySignature(publicKey, statement, signature), knownTreeHead: known, earlierLeaves });
}

/** The stored event hashes of the first `size` leaves, in leaf order: the tree the checkpoints signed. */
async function treeOf(q: Queryable, size: number): Promise<MerkleTree> {
  const rows = await q.query<{ hash: string }>(
    `select e.hash from audit_leaves l join events e on e.position = l.position where l.leaf_index < $1 order by l.leaf_index`,
    [size],
  );
  if (rows.length !== size) throw new DomainError('NOT_FOUND', 'the log no longer holds every leaf of that tree: run auditVerification');
  return new MerkleTree(rows.map((r) => eventLeaf(r.hash)));
}

export interface InclusionProof {
  position: number;
  leafIndex: number;
  eventHash: string;
  treeSize: number;
  root: string;
  hashes: string[];
  checkpoint: Checkpoint;
}

/** That the event at `position` is leaf `leafIndex` of the latest signed tree. NOT_FOUND until a checkpoint covers it. */
export async function inclusionProof(deps: Pick<Deps, 'db'>, position: number): Promise<InclusionProof> {
  const [leaf] = await deps.db.query<{ leaf_index: number; hash: string }>(
    `select l.leaf_index, e.hash from audit_leaves l join events e on e.position = l.position where l.position = $1`, [position],
  );
  const checkpoint = await latestCheckpoint(deps.db);
  if (!leaf || !checkpoint || Number(leaf.leaf_index) >= checkpoint.treeSize) throw new DomainError('NOT_FOUND', 'no signed checkpoint covers that position yet');
  const tree = await treeOf(deps.db, checkpoint.treeSize);
  const leafIndex = Number(leaf.leaf_index);
  return {
    position, leafIndex, eventHash: leaf.hash, treeSize: checkpoint.treeSize, root: checkpoint.root, checkpoint,
    hashes: tree.inclusionProof(leafIndex).map((h) => h.toString('hex')),
  };
}

export interface ConsistencyProof {
  fromSize: number;
  toSize: number;
  fromRoot: string;
  toRoot: string;
  hashes: string[];
  /** The signed checkpoints of those sizes, when there are. */
  fromCheckpoint: Checkpoint | null;
  toCheckpoint: Checkpoint | null;
}

/** That the tree of `toSize` leaves extends the tree of `fromSize` (RFC 6962 §2.1.2), up to the latest signed size. */
export async function consistencyProof(deps: Pick<Deps, 'db'>, fromSize: number, toSize: number): Promise<ConsistencyProof> {
  const latest = await latestCheckpoint(deps.db);
  if (fromSize < 1 || fromSize > toSize) throw new DomainError('VALIDATION_FAILED', 'fromSize: must be from 1 to toSize', { field: 'fromSize' });
  if (!latest || toSize > latest.treeSize) throw new DomainError('VALIDATION_FAILED', `toSize: must not exceed the latest signed tree (${latest?.treeSize ?? 0})`, { field: 'toSize' });
  const tree = await treeOf(deps.db, toSize);
  return {
    fromSize, toSize, fromRoot: tree.root(fromSize).toString('hex'), toRoot: tree.root(toSize).toString('hex'),
    hashes: tree.consistencyProof(fromSize, toSize).map((h) => h.toString('hex')),
    fromCheckpoint: await checkpointAtSize(deps.db, fromSize), toCheckpoint: await checkpointAtSize(deps.db, toSize),
  };
}

export interface ExportOptions {
  userId?: string;
  from?: Date;
  to?: Date;
}

/**
 * `tessera audit export`: JSON Lines with every hashed field of every event, the signed checkpoints and the stream
 * heads; a filtered export carries an inclusion proof per event against the latest checkpoint instead of the whole log.
 * Events come in leaf order (the order the checkpoints signed), then the ones no checkpoint covers yet.
 */
export async function exportAuditLog(deps: Pick<Deps, 'db' | 'auditSigner' | 'clock'>, options: ExportOptions, write: (line: string) => void | Promise<void>): Promise<number> {
  const filtered = options.userId !== undefined || options.from !== undefined || options.to !== undefined;
  const checkpoints = await listCheckpoints(deps.db);
  const latest = checkpoints.at(-1);
  const emit = (line: ExportLine): void | Promise<void> => write(exportLine(line));
  await emit({
    kind: 'header', format: 'tessera-audit-export/v1', exportedAt: deps.clock.now().toISOString(), keyId: deps.auditSigner.keyId,
    filter: filtered ? { userId: options.userId ?? null, from: options.from?.toISOString() ?? null, to: options.to?.toISOString() ?? null } : null,
  });
  for (const c of checkpoints) await emit({ kind: 'checkpoint', seq: c.seq, treeSize: c.treeSize, root: c.root, at: c.at.toISOString(), previous: c.previous, keyId: c.keyId, signature: c.signature });
  let count = 0;
  const prefixed = eventColumns.split(', ').map((c) => `e.${c}`).join(', ');
  if (!filtered) {
    for (let from = 0; ; ) {
      const rows = await deps.db.query<Record<string, unknown>>(
        `select l.leaf_index, l.position as leaf_position, l.stream_id as leaf_stream_id, ${prefixed}
           from audit_leaves l left join events e on e.position = l.position where l.leaf_index >= $1 order by l.leaf_index limit 2000`, [from],
      );
      for (const row of rows) {
        // A leaf whose event the database no longer holds is exported as such, so the file shows what the log lost.
        if (row.position === null || row.position === undefined) await emit({ kind: 'leaf', leafIndex: Number(row.leaf_index), position: Number(row.leaf_position), streamId: String(row.leaf_stream_id) });
        else await emit({ kind: 'event', ...eventFields(row), leafIndex: Number(row.leaf_index) });
      }
      count += rows.length;
      if (rows.length < 2000) break;
      from = Number(rows.at(-1)!.leaf_index) + 1;
    }
    const cursor = { txId: latest?.lastTxId ?? '0', position: latest?.lastPosition ?? 0 };
    // Events inside the signed range that are no leaf (written into signed history), then the ones after it.
    const uncovered = await deps.db.query<Record<string, unknown>>(
      `select ${eventColumns} from events e where (tx_id, position) <= ($1::xid8, $2::bigint)
          and not exists (select 1 from audit_leaves l where l.position = e.position) order by e.tx_id, e.position`, [cursor.txId, cursor.position],
    );
    for (const row of uncovered) await emit({ kind: 'event', ...eventFields(row), leafIndex: null });
    for (let after = cursor; ; ) {
      const rows = await deps.db.query<Record<string, unknown>>(
        `select ${eventColumns} from events where (tx_id, position) > ($1::xid8, $2::bigint) order by events.tx_id, events.position limit 2000`, [after.txId, after.position],
      );
      for (const row of rows) await emit({ kind: 'event', ...eventFields(row), leafIndex: null });
      count += rows.length;
      if (rows.length < 2000) break;
      after = { txId: String(rows.at(-1)!.tx_id), position: Number(rows.at(-1)!.position) };
    }
    for (const head of await deps.db.query<{ stream_id: string; version: number; head_hash: string }>(`select stream_id, version, head_hash from streams order by stream_id`)) {
      await emit({ kind: 'head', streamId: head.stream_id, version: head.version, hash: head.head_hash });
    }
    return count;
  }
  const tree = latest ? await treeOf(deps.db, latest.treeSize) : null;
  for (let after = 0; ; ) {
    const rows = await deps.db.query<Record<string, unknown>>(
      `select l.leaf_index, ${prefixed} from ${liveSchema}.audit_events a join events e on e.position = a.position
         left join audit_leaves l on l.position = e.position
        where a.position > $1 and ($2::text is null or a.user_id = $2)
          and ($3::timestamptz is null or a.recorded_at >= $3) and ($4::timestamptz is null or a.recorded_at < $4)
        order by a.position limit 2000`,
      [after, options.userId ?? null, options.from?.toISOString() ?? null, options.to?.toISOString() ?? null],
    );
    for (const row of rows) {
      const leafIndex = row.leaf_index === null || row.leaf_index === undefined ? null : Number(row.leaf_index);
      const covered = tree && leafIndex !== null && leafIndex < tree.size;
      await emit({
        kind: 'event', ...eventFields(row), leafIndex,
        ...(covered ? { proof: { treeSize: tree.size, hashes: tree.inclusionProof(leafIndex).map((h) => h.toString('hex')) } } : {}),
      });
    }
    count += rows.length;
    if (rows.length < 2000) break;
    after = Number(rows.at(-1)!.position);
  }
  return count;
}

function eventFields(row: Record<string, unknown>) {
  const e = toRecordedEvent(row as never);
  return {
    position: e.position, txId: e.txId, streamId: e.streamId, version: e.version, type: e.type, data: e.data, metadata: e.metadata,
    recordedAt: e.recordedAt.toISOString(), prevHash: e.prevHash, hash: e.hash, hashVersion: e.hashVersion,
  };
}

export interface OpenedAuditRow {
  ip: string | null;
  userAgent: string | null;
  summary: Record<string, unknown>;
  /** The person the event concerns was erased (their key is gone). */
  erased: boolean;
}

/** An audit row for the auditor: its sealed address, user agent and personal summary fields opened, or null once erased. */
export async function openAuditRow(deps: Pick<Deps, 'db' | 'personalData'>, row: AuditRow): Promise<OpenedAuditRow> {
  const [clear, erased] = await Promise.all([
    deps.personalData.openDeep(deps.db, { ip: row.ip, userAgent: row.user_agent, summary: row.summary }),
    row.user_id ? deps.personalData.erasedSubjects(deps.db, [row.user_id]) : Promise.resolve(new Set<string>()),
  ]);
  return { ...clear, erased: row.user_id !== null && erased.has(row.user_id) };
}
