// Signed checkpoints over the whole log (issue 14): an RFC 6962 Merkle tree over every event's hash in commit order
// (tx_id, position), covering only events below the visible horizon, so an event that commits late never lands inside
// a tree already signed. Each checkpoint extends the last one's tree from its stored right edge (the compact range), so
// its cost is the new events only; appends never touch anything here (no hot row per append).
import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../db/index.js';
import { CompactRange, eventLeaf } from './merkle.js';
import { genesisHash } from './hashChain.js';

export interface Checkpoint {
  seq: number;
  treeSize: number;
  root: string;
  at: Date;
  /** SHA-256 of the previous checkpoint's signed statement (genesis: zeros): the checkpoints form one chain. */
  previous: string;
  keyId: string;
  signature: string;
}

export interface StoredCheckpoint extends Checkpoint {
  frontier: string[];
  lastTxId: string;
  lastPosition: number;
}

/** Signs a checkpoint's statement; crypto/auditSigning.ts provides the Ed25519 one. */
export interface StatementSigner {
  keyId: string;
  sign(message: string): string;
}

/** The exact bytes that are signed: one field a line, so an auditor can rebuild them with nothing but a text editor. */
export function checkpointStatement(c: Pick<Checkpoint, 'seq' | 'treeSize' | 'root' | 'at' | 'previous'>): string {
  return `tessera-audit-checkpoint/v1\nseq ${c.seq}\ntree-size ${c.treeSize}\nroot ${c.root}\nat ${c.at.toISOString()}\nprevious ${c.previous}\n`;
}

export function statementHash(c: Pick<Checkpoint, 'seq' | 'treeSize' | 'root' | 'at' | 'previous'>): string {
  return createHash('sha256').update(checkpointStatement(c)).digest('hex');
}

interface CheckpointRow {
  seq: number;
  tree_size: number;
  root: string;
  frontier: string[];
  last_tx_id: string;
  last_position: number;
  at: Date | string;
  previous: string;
  key_id: string;
  signature: string;
  [key: string]: unknown;
}

const checkpointColumns = 'seq, tree_size, root, frontier, last_tx_id::text as last_tx_id, last_position, at, previous, key_id, signature';

function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return {
    seq: Number(row.seq), treeSize: Number(row.tree_size), root: row.root, frontier: row.frontier, lastTxId: row.last_tx_id,
    lastPosition: Number(row.last_position), at: row.at instanceof Date ? row.at : new Date(row.at), previous: row.previous,
    keyId: row.key_id, signature: row.signature,
  };
}

export async function latestCheckpoint(q: Queryable): Promise<StoredCheckpoint | null> {
  const [row] = await q.query<CheckpointRow>(`select ${checkpointColumns} from audit_checkpoints order by seq desc limit 1`);
  return row ? toCheckpoint(row) : null;
}

export async function listCheckpoints(q: Queryable): Promise<StoredCheckpoint[]> {
  return (await q.query<CheckpointRow>(`select ${checkpointColumns} from audit_checkpoints order by seq`)).map(toCheckpoint);
}

/** Events below the horizon the last checkpoint does not cover yet, up to `limit` (how many are waiting). */
export async function uncheckpointedCount(q: Queryable, limit: number): Promise<number> {
  const last = await latestCheckpoint(q);
  // Ordered as the index is, so that every plan walks it from the last checkpoint: PostgreSQL's generic plan for the
  // unordered count (a prepared statement may switch to it) guessed a third of the log matched and scanned all of it
  // (245 ms a tick on a million events) to find the few that do.
  const [row] = await q.query<{ n: number }>(
    `select count(*)::int as n from (select 1 from events
       where tx_id < pg_snapshot_xmin(pg_current_snapshot()) and (tx_id, position) > ($1::xid8, $2::bigint)
       order by events.tx_id, events.position limit $3) waiting`,
    [last?.lastTxId ?? '0', last?.lastPosition ?? 0, limit],
  );
  return row?.n ?? 0;
}

// One checkpointer at a time across instances; a second one skips instead of waiting (it would find nothing to do).
const checkpointLock = 7316014;
const maxLeavesPerCheckpoint = 200_000;

/**
 * Extends the tree with the events committed since the last checkpoint and signs the new tree head, in one transaction:
 * the leaves and the checkpoint commit together. The checkpoint is appended at the next seq (the checkpoint stream's
 * expected version): if another instance got there first, the primary key refuses this one and nothing is written,
 * so the chain of checkpoints never forks. Returns null when another checkpointer holds the lock or nothing is new.
 */
export async function writeCheckpoint(db: Db, signer: StatementSigner, now: Date): Promise<StoredCheckpoint | null> {
  return db.transaction(async (tx) => {
    const [lock] = await tx.query<{ locked: boolean }>(`select pg_try_advisory_xact_lock(${checkpointLock}) as locked`);
    if (!lock?.locked) return null;
    const last = await latestCheckpoint(tx);
    const rows = await tx.query<{ position: number; tx_id: string; stream_id: string; hash: string }>(
      `select position, tx_id::text as tx_id, stream_id, hash from events
        where tx_id < pg_snapshot_xmin(pg_current_snapshot()) and (tx_id, position) > ($1::xid8, $2::bigint)
        order by events.tx_id, events.position limit $3`,
      [last?.lastTxId ?? '0', last?.lastPosition ?? 0, maxLeavesPerCheckpoint],
    );
    if (rows.length === 0) return null;
    const range = last ? CompactRange.from(last.treeSize, last.frontier) : new CompactRange();
    const firstLeaf = range.size;
    for (const row of rows) range.append(eventLeaf(row.hash));
    await tx.query(
      `insert into audit_leaves (leaf_index, position, stream_id)
       select $1::bigint + ord - 1, position, stream_id from unnest($2::bigint[], $3::text[]) with ordinality as l(position, stream_id, ord)`,
      [firstLeaf, rows.map((r) => r.position), rows.map((r) => r.stream_id)],
    );
    const lastRow = rows[rows.length - 1]!;
    const head = {
      seq: (last?.seq ?? 0) + 1, treeSize: range.size, root: range.root().toString('hex'), at: now,
      previous: last ? statementHash(last) : genesisHash,
    };
    const checkpoint: StoredCheckpoint = {
      ...head, frontier: range.frontierHex(), lastTxId: lastRow.tx_id, lastPosition: lastRow.position,
      keyId: signer.keyId, signature: signer.sign(checkpointStatement(head)),
    };
    await tx.query(
      `insert into audit_checkpoints (seq, tree_size, root, frontier, last_tx_id, last_position, at, previous, key_id, signature)
       values ($1, $2, $3, $4::text::jsonb, $5::xid8, $6, $7, $8, $9, $10)`,
      [checkpoint.seq, checkpoint.treeSize, checkpoint.root, JSON.stringify(checkpoint.frontier), checkpoint.lastTxId, checkpoint.lastPosition,
        checkpoint.at.toISOString(), checkpoint.previous, checkpoint.keyId, checkpoint.signature],
    );
    return checkpoint;
  });
}

export async function checkpointAtSize(q: Queryable, treeSize: number): Promise<StoredCheckpoint | null> {
  const [row] = await q.query<CheckpointRow>(`select ${checkpointColumns} from audit_checkpoints where tree_size = $1 order by seq limit 1`, [treeSize]);
  return row ? toCheckpoint(row) : null;
}
