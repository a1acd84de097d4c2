// What an auditor runs (issue 14): every stream chain AND the signed checkpoints, naming what broke and where.
// One pass in leaf order (the order the checkpoints signed), then the events after the last checkpoint.
import type { Queryable } from '../db/index.js';
import { eventColumns, toRecordedEvent } from './eventStore.js';
import { eventHash, genesisHash } from './hashChain.js';
import { CompactRange, eventLeaf, type Hash } from './merkle.js';
import { checkpointStatement, latestCheckpoint, listCheckpoints, statementHash, type Checkpoint } from './checkpoints.js';
import type { RecordedEvent } from './types.js';

export type AuditBreakKind = 'EDITED' | 'DELETED' | 'REORDERED' | 'INSERTED' | 'TRUNCATED' | 'BAD_SIGNATURE' | 'MISSING_STREAM' | 'FORKED';

export interface AuditBreak {
  kind: AuditBreakKind;
  /** The first broken position, where the chain or the leaves show it. */
  position?: number;
  streamId?: string;
  version?: number;
  /** Otherwise the range of leaves (fromTreeSize, toTreeSize] of the checkpoint whose root or signature no longer holds. */
  fromTreeSize?: number;
  toTreeSize?: number;
  checkpointSeq?: number;
  detail: string;
}

export interface LogVerification {
  ok: boolean;
  eventsChecked: number;
  streamsChecked: number;
  checkpointsChecked: number;
  /** Leaves the checkpoints cover (the size of the last tree). */
  treeSize: number;
  /** Every break found, the most precise first (a position before a range). */
  breaks: AuditBreak[];
}

/** A checkpoint the auditor kept from earlier (an export, or auditConsistencyProof): a rollback behind it is caught. */
export interface KnownTreeHead {
  treeSize: number;
  root: string;
}

export interface VerifyLogOptions {
  /** Checks a checkpoint's signature against the auditor's public key. */
  verifySignature(statement: string, signature: string, keyId: string): boolean;
  knownTreeHead?: KnownTreeHead;
  /**
   * The leaves of an export the auditor kept from earlier (leaf index → its event's position and hash): where a
   * checkpoint's root no longer matches but every chain does (an edit with its stream re-hashed), the first leaf that
   * differs from that export names the event.
   */
  earlierLeaves?: ReadonlyMap<number, { position: number; hash: string }>;
  batchSize?: number;
}

interface StreamState {
  version: number;
  hash: string;
  /** Events that arrived before their predecessor (commit order is not stream order across transactions). */
  pending: Map<number, { event: RecordedEvent; recomputed: string }>;
  lastPosition: number;
}

/** One leaf of the tree, in leaf order, with the event it names (null when that event is gone). */
export interface LeafEntry {
  leafIndex: number;
  /** Where the leaf says its event is; null when the source does not know (an export with a line removed). */
  position: number | null;
  streamId: string | null;
  event: RecordedEvent | null;
}

/** Where the log comes from: the database (live) or an export file (offline); both are verified the same way. */
export interface LogSource {
  checkpoints(): Promise<Checkpoint[]>;
  /** Every leaf in leaf order, in batches. */
  leaves(): AsyncIterable<LeafEntry[]>;
  /** The events after what the last checkpoint covers, in commit order, in batches. */
  eventsAfterCheckpoints(): AsyncIterable<RecordedEvent[]>;
  /** Events inside the covered range that are no leaf (given how many leaves found their event). */
  uncoveredInSignedRange(leavesPresent: number): Promise<Array<{ position: number; streamId: string; version: number }>>;
  heads(): Promise<Array<{ streamId: string; version: number; hash: string }>>;
  streamEvents(streamId: string): Promise<RecordedEvent[]>;
}

export async function verifyLog(q: Queryable, options: VerifyLogOptions): Promise<LogVerification> {
  return verifySource(sqlLogSource(q, options.batchSize ?? 5000), options);
}

export async function verifySource(source: LogSource, options: VerifyLogOptions): Promise<LogVerification> {
  const breaks: AuditBreak[] = [];
  const checkpoints = await source.checkpoints();
  breaks.push(...checkCheckpointChain(checkpoints, options));

  const streams = new Map<string, StreamState>();
  const mismatched: RecordedEvent[] = [];
  let eventsChecked = 0;

  const link = (event: RecordedEvent, recomputed: string, state: StreamState): void => {
    eventsChecked++;
    if (event.prevHash !== state.hash || recomputed !== event.hash) mismatched.push(event);
    state.version = event.version;
    state.hash = event.hash;
    state.lastPosition = event.position;
  };
  const visit = (event: RecordedEvent): string => {
    let state = streams.get(event.streamId);
    if (!state) streams.set(event.streamId, (state = { version: 0, hash: genesisHash, pending: new Map(), lastPosition: 0 }));
    const recomputed = eventHash(event);
    if (event.version !== state.version + 1) state.pending.set(event.version, { event, recomputed });
    else {
      link(event, recomputed, state);
      for (let next = state.pending.get(state.version + 1); next; next = state.pending.get(state.version + 1)) {
        state.pending.delete(next.event.version);
        link(next.event, next.recomputed, state);
      }
    }
    return recomputed;
  };

  // 1. The leaves, in order: each event is checked in its stream and its recomputed hash extends the tree.
  const range = new CompactRange();
  const missingLeaves: Array<{ leafIndex: number; position: number | null; streamId: string | null }> = [];
  const rootAt = new Map<number, Hash>();
  const sizes = new Set(checkpoints.map((c) => c.treeSize));
  if (options.knownTreeHead) sizes.add(options.knownTreeHead.treeSize);
  const placeholder = Buffer.alloc(32);
  let leavesPresent = 0;
  let firstDifference = null as { leafIndex: number; position: number } | null; // set inside compare()
  const compare = (leafIndex: number, hash: string | null): void => {
    const earlier = options.earlierLeaves?.get(leafIndex);
    if (firstDifference || !earlier || earlier.hash === hash) return;
    firstDifference = { leafIndex, position: earlier.position };
  };
  for await (const batch of source.leaves()) {
    for (const leaf of batch) {
      // A leaf deleted from the middle: its entry is unknown, so the tree of every later checkpoint fails to match.
      while (range.size < leaf.leafIndex) {
        compare(range.size, null);
        missingLeaves.push({ leafIndex: range.size, position: null, streamId: null });
        range.append(placeholder);
        if (sizes.has(range.size)) rootAt.set(range.size, range.root());
      }
      if (!leaf.event) {
        compare(leaf.leafIndex, null);
        missingLeaves.push({ leafIndex: leaf.leafIndex, position: leaf.position, streamId: leaf.streamId });
        range.append(placeholder);
      } else {
        leavesPresent++;
        const recomputed = visit(leaf.event);
        compare(leaf.leafIndex, recomputed);
        range.append(eventLeaf(recomputed));
      }
      if (sizes.has(range.size)) rootAt.set(range.size, range.root());
    }
  }
  const leafCount = range.size;

  // 2. The events after the last checkpoint: chained now, covered by the next checkpoint.
  for await (const batch of source.eventsAfterCheckpoints()) for (const event of batch) visit(event);

  // 3. Events inside the range the checkpoints cover that are no leaf of the tree: written into signed history.
  for (const e of await source.uncoveredInSignedRange(leavesPresent)) {
    breaks.push({ kind: 'INSERTED', position: e.position, streamId: e.streamId, version: e.version, detail: 'an event inside the signed range that no checkpoint covers' });
  }
  const last = checkpoints.at(-1);

  // 4. Missing leaves: a suffix of the tree is a truncation, a whole stream gone is a missing stream, else a deletion.
  const streamsWithMissing = new Set<string>();
  const suffixFrom = missingLeaves.length > 0 && missingLeaves.at(-1)!.leafIndex === leafCount - 1
    ? missingLeaves.reduceRight((start, m) => (m.leafIndex === start - 1 ? m.leafIndex : start), leafCount)
    : leafCount;
  for (const m of missingLeaves) {
    if (m.streamId !== null) streamsWithMissing.add(m.streamId);
    if (m.leafIndex >= suffixFrom) continue;
    const kind: AuditBreakKind = m.streamId === null || streams.has(m.streamId) ? 'DELETED' : 'MISSING_STREAM';
    breaks.push({
      kind, position: m.position ?? undefined, streamId: m.streamId ?? undefined, fromTreeSize: m.leafIndex, toTreeSize: m.leafIndex + 1,
      detail: kind === 'DELETED' ? `the event of leaf ${m.leafIndex} is gone` : 'every event of a signed stream is gone',
    });
  }
  if (suffixFrom < leafCount) {
    const first = missingLeaves.find((m) => m.leafIndex === suffixFrom)!;
    breaks.push({ kind: 'TRUNCATED', position: first.position ?? undefined, fromTreeSize: suffixFrom, toTreeSize: leafCount, detail: 'the signed log ends early: its last events are gone' });
  }

  // 5. Each stream: edits, swaps, gaps, and a tail shorter than its recorded head.
  breaks.push(...(await classifyMismatches(source, mismatched)));
  for (const [streamId, state] of streams) {
    if (state.pending.size > 0 && !streamsWithMissing.has(streamId)) {
      const next = [...state.pending.values()].map((p) => p.event).sort((a, b) => a.version - b.version)[0]!;
      breaks.push({ kind: 'DELETED', position: next.position, streamId, version: next.version, detail: `version ${state.version + 1} of the stream is gone` });
    }
  }
  for (const head of await source.heads()) {
    const state = streams.get(head.streamId);
    if (streamsWithMissing.has(head.streamId)) continue;
    if (!state) breaks.push({ kind: 'MISSING_STREAM', streamId: head.streamId, version: head.version, detail: 'a stream with a recorded head has no events' });
    else if (state.pending.size === 0 && state.version < head.version) {
      breaks.push({ kind: 'TRUNCATED', position: state.lastPosition, streamId: head.streamId, version: state.version, detail: `the stream ends at version ${state.version}, its head says ${head.version}` });
    } else if (state.pending.size === 0 && state.version === head.version && state.hash !== head.hash) {
      breaks.push({ kind: 'EDITED', position: state.lastPosition, streamId: head.streamId, version: state.version, detail: 'the stream head does not match its last event' });
    }
  }

  // 6. Each checkpoint's root, recomputed from the events; and the tree head the auditor kept.
  let previousSize = 0;
  for (const c of checkpoints) {
    if (c.treeSize > leafCount) {
      if (suffixFrom === leafCount) breaks.push({ kind: 'TRUNCATED', fromTreeSize: leafCount, toTreeSize: c.treeSize, checkpointSeq: c.seq, detail: `checkpoint ${c.seq} signs ${c.treeSize} leaves, the log has ${leafCount}` });
      break;
    }
    const root = rootAt.get(c.treeSize);
    if (!root || root.toString('hex') !== c.root) {
      const lost = missingLeaves.some((m) => m.leafIndex >= previousSize && m.leafIndex < c.treeSize);
      const named = firstDifference && firstDifference.leafIndex >= previousSize && firstDifference.leafIndex < c.treeSize ? firstDifference : null;
      breaks.push({
        kind: lost ? 'DELETED' : 'EDITED', fromTreeSize: previousSize, toTreeSize: c.treeSize, checkpointSeq: c.seq,
        ...(named ? { position: named.position } : {}),
        detail: `the events of checkpoint ${c.seq} no longer hash to its signed root`
          + (named ? `; the first that differs from the earlier export is leaf ${named.leafIndex} (position ${named.position})` : ''),
      });
    }
    previousSize = c.treeSize;
  }
  const known = options.knownTreeHead;
  if (known) {
    if (known.treeSize > leafCount) breaks.push({ kind: 'TRUNCATED', fromTreeSize: leafCount, toTreeSize: known.treeSize, detail: `the log was rolled back behind a checkpoint of ${known.treeSize} leaves` });
    else if (rootAt.get(known.treeSize)?.toString('hex') !== known.root) breaks.push({ kind: 'FORKED', fromTreeSize: 0, toTreeSize: known.treeSize, detail: 'the log is not an extension of the checkpoint the auditor kept' });
  }

  return { ok: breaks.length === 0, eventsChecked, streamsChecked: streams.size, checkpointsChecked: checkpoints.length, treeSize: last?.treeSize ?? 0, breaks: ordered(breaks) };
}

/** Signatures, and one unbroken chain: seq 1, 2, 3…, each naming the one before, trees that only grow. */
export function checkCheckpointChain(checkpoints: readonly Checkpoint[], options: Pick<VerifyLogOptions, 'verifySignature'>): AuditBreak[] {
  const breaks: AuditBreak[] = [];
  let previous: Checkpoint | undefined;
  for (const [i, c] of checkpoints.entries()) {
    const range = { fromTreeSize: previous?.treeSize ?? 0, toTreeSize: c.treeSize, checkpointSeq: c.seq };
    if (!options.verifySignature(checkpointStatement(c), c.signature, c.keyId)) {
      breaks.push({ kind: 'BAD_SIGNATURE', ...range, detail: `checkpoint ${c.seq}: the signature does not verify with the public key` });
    }
    if (c.seq !== i + 1 || c.previous !== (previous ? statementHash(previous) : genesisHash) || (previous && c.treeSize < previous.treeSize)) {
      breaks.push({ kind: 'FORKED', ...range, detail: `checkpoint ${c.seq} does not extend checkpoint ${previous?.seq ?? 0}` });
    }
    previous = c;
  }
  return breaks;
}

/**
 * An event whose content no longer hashes to its hash: swapped with another event of its stream when its content hashes
 * correctly at the other's place (REORDERED), otherwise EDITED.
 */
async function classifyMismatches(source: LogSource, mismatched: readonly RecordedEvent[]): Promise<AuditBreak[]> {
  const breaks: AuditBreak[] = [];
  const byStream = new Map<string, RecordedEvent[]>();
  for (const e of mismatched) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
  for (const [streamId, events] of byStream) {
    const all = await source.streamEvents(streamId);
    const first = events.reduce((a, b) => (b.position < a.position ? b : a));
    const swapped = events.some((e) => all.some((other) => other.position !== e.position
      && eventHash({ ...other, type: e.type, data: e.data, metadata: e.metadata, recordedAt: e.recordedAt }) === other.hash));
    breaks.push({
      kind: swapped ? 'REORDERED' : 'EDITED', position: first.position, streamId, version: first.version,
      detail: swapped ? 'events of the stream were moved to each other\'s places' : 'the event no longer hashes to its recorded hash',
    });
  }
  return breaks;
}

function ordered(breaks: AuditBreak[]): AuditBreak[] {
  const rank = (b: AuditBreak): number => (b.position !== undefined ? 0 : 1);
  return [...breaks].sort((a, b) => rank(a) - rank(b) || (a.position ?? 0) - (b.position ?? 0) || (a.fromTreeSize ?? 0) - (b.fromTreeSize ?? 0));
}

/** The live log: leaves joined to their events, then the events after the last checkpoint's cursor. */
export function sqlLogSource(q: Queryable, batchSize = 5000): LogSource {
  const cursor = async (): Promise<{ txId: string; position: number } | null> => {
    const last = await latestCheckpoint(q);
    return last ? { txId: last.lastTxId, position: last.lastPosition } : null;
  };
  return {
    checkpoints: () => listCheckpoints(q),
    // The leaves of a batch are read by the leaf index alone (an index-only range), and their events by a range of
    // positions rather than one index probe per leaf: commit order follows position order closely, so the range holds
    // little else (events outside the batch are skipped; a sparse batch falls back to the positions themselves).
    // Each batch's reads go out before the caller hashes the one before: the database and the hashing overlap.
    async *leaves() {
      type LeafRow = { leaf_index: string; position: string; stream_id: string };
      const fetch = async (from: number): Promise<{ rows: LeafRow[]; events: Map<number, RecordedEvent> }> => {
        const rows = await q.query<LeafRow>(`select leaf_index, position, stream_id from audit_leaves where leaf_index >= $1 order by leaf_index limit $2`, [from, batchSize]);
        const positions = rows.map((r) => Number(r.position));
        const low = Math.min(...positions);
        const high = Math.max(...positions);
        const found = rows.length === 0 ? [] : high - low < 4 * batchSize
          ? await q.query<Record<string, unknown>>(`select ${eventColumns} from events where position between $1 and $2`, [low, high])
          : await q.query<Record<string, unknown>>(`select ${eventColumns} from events where position = any($1::bigint[])`, [positions]);
        const events = new Map<number, RecordedEvent>();
        for (const row of found) events.set(Number(row.position), toRecordedEvent(row as never));
        return { rows, events };
      };
      for (let next = fetch(0); ; ) {
        const { rows, events } = await next;
        if (rows.length === batchSize) next = fetch(Number(rows[rows.length - 1]!.leaf_index) + 1);
        yield rows.map((row) => ({
          leafIndex: Number(row.leaf_index), position: Number(row.position), streamId: row.stream_id,
          event: events.get(Number(row.position)) ?? null,
        }));
        if (rows.length < batchSize) return;
      }
    },
    async *eventsAfterCheckpoints() {
      const fetch = (after: { txId: string; position: number }) => q.query<Record<string, unknown>>(
        `select ${eventColumns} from events where (tx_id, position) > ($1::xid8, $2::bigint) order by events.tx_id, events.position limit $3`,
        [after.txId, after.position, batchSize],
      );
      for (let next = fetch((await cursor()) ?? { txId: '0', position: 0 }); ; ) {
        const events = (await next).map((r) => toRecordedEvent(r as never));
        if (events.length === batchSize) next = fetch({ txId: events.at(-1)!.txId, position: events.at(-1)!.position });
        yield events;
        if (events.length < batchSize) return;
      }
    },
    async uncoveredInSignedRange(leavesPresent) {
      const until = await cursor();
      if (!until) return [];
      const [row] = await q.query<{ n: number }>(`select count(*)::int as n from events where (tx_id, position) <= ($1::xid8, $2::bigint)`, [until.txId, until.position]);
      if ((row?.n ?? 0) <= leavesPresent) return [];
      const rows = await q.query<{ position: number; stream_id: string; version: number }>(
        `select e.position, e.stream_id, e.version from events e
          where (e.tx_id, e.position) <= ($1::xid8, $2::bigint) and not exists (select 1 from audit_leaves l where l.position = e.position)
          order by e.position limit 10`,
        [until.txId, until.position],
      );
      return rows.map((r) => ({ position: Number(r.position), streamId: r.stream_id, version: r.version }));
    },
    async heads() {
      const rows = await q.query<{ stream_id: string; version: number; head_hash: string }>(`select stream_id, version, head_hash from streams`);
      return rows.map((r) => ({ streamId: r.stream_id, version: r.version, hash: r.head_hash }));
    },
    async streamEvents(streamId) {
      return (await q.query<Record<string, unknown>>(`select ${eventColumns} from events where stream_id = $1 order by version`, [streamId])).map((r) => toRecordedEvent(r as never));
    },
  };
}
