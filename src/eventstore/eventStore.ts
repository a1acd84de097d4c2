// The Postgres event log (DESIGN.md §3). It knows streams, versions and hashes, nothing of MFA.
import type { Db, Queryable, Row } from '../db/index.js';
import { sqlState } from '../db/index.js';
import { ConcurrencyError, EventStoreError } from './errors.js';
import { currentHashVersion, eventHash, genesisHash } from './hashChain.js';
import { asOneStatement } from './oneStatement.js';
import type { EventMetadata, EventSealer, ExpectedVersion, LogCheckpoint, NewEvent, RecordedEvent, SealedEvent, Statement } from './types.js';

export const maxEventPayloadBytes = 64 * 1024;
/**
 * NOTIFYed by every append, at its commit, in the insert statement itself (no extra round trip): a wake-up for readers
 * of the log (the live security feed) on every instance. The log stays the source of truth; a lost wake-up costs latency.
 */
export const logAppendedChannel = 'tessera_log_appended';
/** How often an instance wakes the log's readers at most (see wakeReaders). */
const wakeIntervalMs = 50;
const streamIdPattern = /^[a-z][a-zA-Z]*-[A-Za-z0-9_.:@-]{1,200}$/;

/** What every append does in its transaction besides writing its events. */
export interface AppendEffects {
  /** The inline projections' writes for these events: sent with the events, in the same statement when they can be. */
  statements(events: readonly RecordedEvent[]): Statement[];
  /** Runs after those writes, in the same transaction: reactors, which may read, and append events of their own. */
  react(tx: Queryable, events: readonly RecordedEvent[]): Promise<void>;
  /** Whether `react` has anything to do for events of these types (if not, an append can commit as it writes). */
  reactsTo(events: readonly { type: string }[]): boolean;
  /**
   * Reactions told from the events alone, without a read: they go out in the append's own statement instead of after
   * it, so an append that causes them can still be one statement (no transaction, or committing as it writes).
   * Absent, or a null count: the reactors run after the writes, as `react`.
   */
  reactionsWithoutReads?: ReactionPlanner;
}

/** What reactors will append and write for some events, decided before the append's statement is sent. */
export interface ReactionPlanner {
  /**
   * How many events the reactions to these (not yet recorded) events will append at most, drawn with the append's own
   * positions; null when a reactor must read to decide (then `react` runs instead).
   */
  count(events: readonly NewEvent[]): number | null;
  /** The reactions to the recorded events, given a non-null count for them: appends to new streams, and writes. */
  plan(events: readonly RecordedEvent[]): PlannedReactions;
}

export interface PlannedReactions {
  /** Each to a stream of its own that does not exist yet (expected version 0). */
  appends: Array<{ streamId: string; events: NewEvent[]; metadata: EventMetadata; recordedAt: Date }>;
  /** Writes of their own (to tables no projection of these events writes): part of the same statement. */
  statements: Statement[];
}

const noEffects: AppendEffects = { statements: () => [], react: async () => {}, reactsTo: () => false };

/**
 * Told what the log did, for metrics (src/observability/metrics.ts): how long each append took, and the events of each
 * transaction that committed (never those of one rolled back and retried).
 */
export interface EventStoreObserver {
  appended(seconds: number, events: readonly RecordedEvent[]): void;
  committed(events: readonly RecordedEvent[]): void;
}

/** Seals snapshot states (the service's secret box): authenticated encryption bound to associated data. */
export interface SnapshotSealer {
  seal(plaintext: string, associatedData: string): string;
  /** Throws when the sealed text is not authentic for this associated data. */
  open(sealed: string, associatedData: string): string;
}

/** How a stream's state is folded, and snapshotted: the kind names the fold and its state's shape (bump on change). */
export interface Fold<State> {
  kind: string;
  initialState: State;
  evolve(state: State, event: RecordedEvent): State;
  /** A snapshot is written once this many events were folded on top of the last one. */
  snapshotEvery: number;
  /**
   * Event types (of any stream) after which a transaction writes no snapshot of this fold: those that delete its
   * snapshots (an erasure), so a read later in the same transaction cannot write one back once it commits.
   */
  noSnapshotAfter?: readonly string[];
}

export interface Folded<State> {
  state: State;
  version: number;
  /** Events folded by this read (after the snapshot it started from, if any). */
  eventsRead: number;
  /** Whether it started from a snapshot. */
  fromSnapshot: boolean;
}

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  metadata?: EventMetadata;
  /** When the events happened; injected so tests run on a fixed clock. */
  now?: Date;
  /** Append inside a caller's transaction (several streams in one commit). */
  tx?: Queryable;
}

export interface AppendResult {
  nextExpectedVersion: number;
  events: RecordedEvent[];
}

interface EventRow extends Row {
  position: number;
  tx_id: string;
  stream_id: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  recorded_at: Date | string;
  prev_hash: string;
  hash: string;
  hash_version: number;
}

// tx_id goes out as text (an xid8 is 64 bits). Beware: ORDER BY tx_id in a query selecting these columns sorts that
// text ('100' before '99'); order by the table's column (events.tx_id, e.tx_id), which is the commit order.
export const eventColumns = 'position, tx_id::text as tx_id, stream_id, version, type, data, metadata, recorded_at, prev_hash, hash, hash_version';

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    position: Number(row.position),
    txId: row.tx_id,
    streamId: row.stream_id,
    version: row.version,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at instanceof Date ? row.recorded_at : new Date(row.recorded_at),
    prevHash: row.prev_hash,
    hash: row.hash,
    hashVersion: Number(row.hash_version ?? 1),
  };
}

// Enough rounds for every one of many concurrent submitters (20 parallel uses of one code) to lose a race once;
// each round is one short transaction.
const maxConflictRounds = 64;

/**
 * Positions a transaction drew ahead, with the transaction's id: for its reactions' appends (appendBatch), or for its
 * own coming appends (drawAhead: a promise until the answer is in).
 *
 * Within a stream, position order must be version order (a rebuild replays in position order): an append's positions
 * are drawn after it read the head it appends to, so whoever appended before that read drew lower ones. Spare
 * positions therefore serve only appends to new streams, and to the streams whose heads were read before they were
 * drawn (`headsBefore`).
 */
interface SparePositions { txId: string; positions: number[]; headsBefore: ReadonlySet<string> }
const sparePositionsIn = new WeakMap<Queryable, SparePositions | Promise<SparePositions>>();
/** Draws asked for ahead (drawAhead) and not sent yet: how many positions, sent after the transaction's next read. */
const drawsAsked = new WeakMap<Queryable, number>();

/** Transactions that appended, with what they appended: their commit wakes the log's readers and tells the observer. */
const appendedIn = new WeakMap<Queryable, RecordedEvent[]>();

/**
 * The head of each stream a transaction has read in full, so its append need not select it again. Safe: if another
 * writer commits to the stream after the read, the insert at the next version fails on the unique index as before.
 */
const headsReadIn = new WeakMap<Queryable, Map<string, { version: number; hash: string }>>();

/**
 * Streams a transaction read ahead (readStreams), until it appends to them: from their snapshot when they have one
 * (then `events` starts at the snapshot's version), else whole.
 */
interface ReadAhead {
  snapshot: SnapshotRow | null;
  events: RecordedEvent[];
}
const streamsReadIn = new WeakMap<Queryable, Map<string, ReadAhead>>();

/** A row of readFromSnapshots' read: an event, or (snapshot_kind set) a stream's snapshot. */
type StreamReadRow = EventRow & { snapshot_kind: string | null; snapshot_state: string | null };

/** What a read ahead (EventStore.readAheadSql) gave, as its row came back: the streams read, their rows, the positions. */
export interface ReadAheadRow {
  ids: string[];
  /** readFromSnapshots' rows, one per event or snapshot read. */
  rows: Row[];
  positions: Array<number | string> | null;
}
/**
 * The read ahead in the rows of a statement that joined readAheadSql (one row per event or snapshot read, its columns
 * prefixed `ahead_`, the statement's own columns repeated on each); undefined when it read nothing.
 */
export function readAheadOf(rows: readonly Row[]): ReadAheadRow | undefined {
  const ids = rows[0]?.ahead_ids as string[] | null | undefined;
  if (!ids || ids.length === 0) return undefined;
  const read = rows.filter((r) => r.ahead_stream_id !== null).map((r) => {
    const own: Row = {};
    for (const key in r) if (key.startsWith('ahead_')) own[key.slice('ahead_'.length)] = r[key];
    return own;
  });
  return { ids, rows: read, positions: (rows[0]!.ahead_positions as Array<number | string> | null) ?? null };
}

/** The events' insert: rows as JSON, in position order. */
const insertEvents = `insert into events (position, stream_id, version, type, data, metadata, recorded_at, prev_hash, hash, hash_version)
       overriding system value
       select r.position, r.stream_id, r.version, r.type, r.data, r.metadata, r.recorded_at, r.prev_hash, r.hash, $2::smallint
         from jsonb_to_recordset($1::text::jsonb) as r(position bigint, stream_id text, version int, type text, data jsonb, metadata jsonb, recorded_at timestamptz, prev_hash text, hash text)
       order by r.position`;
/** Holds the streams $n (text[]) at the versions $n+1 (int[]), failing if one has moved (holdAtVersion). */
const holdCheck = (n: number): string =>
  `select bool_and(tessera_hold_stream(h.stream_id, h.version)) from unnest($${n}::text[], $${n + 1}::int[]) as h(stream_id, version)`;
/** The events' insert, checking the held streams ($3, $4) first. */
const insertEventsHolding = insertEvents.replace('\n       order by r.position', `
        where (${holdCheck(3)})
       order by r.position`);

/** Reads ahead already taken by a transaction: a retry reads again. */
const adopted = new WeakSet<ReadAheadRow>();

/** Streams a transaction holds at a version read outside it (holdAtVersion), until its next append checks them. */
const holdsIn = new WeakMap<Queryable, Array<{ streamId: string; version: number }>>();
/** The SQLSTATE tessera_hold_stream raises when a held stream has moved (migration 060). */
const heldStreamMoved = 'TS409';

interface SnapshotRow {
  kind: string;
  version: number;
  head_hash: string;
  state: string;
}

/** One append waiting in a unit of work, as decided. */
interface PendingAppend {
  streamId: string;
  events: readonly NewEvent[];
  expectedVersion: ExpectedVersion;
  metadata: EventMetadata;
  recordedAt: Date;
}

interface BatchOptions {
  /** The transaction ends with this append: it commits in the same round trip when no reactor has to run after it. */
  committing?: Queryable;
  /**
   * No transaction: the append is one statement, atomic on its own (appendAlone). Positions are drawn beforehand, in
   * their own statement, and an append that cannot be one statement, or has a reactor to run after it, is not made
   * (null).
   */
  alone?: boolean;
}

/**
 * A transaction run by the store (transaction, transactionWithRetry) is a unit of work: appends handed to it through
 * appendDeferred wait, and go out together as ONE multi-stream append (one position draw, then one statement for the
 * events, their heads and their projections: appendBatch) just before anything else runs in the transaction — the next
 * read, a non-deferred append — or at the end, with the COMMIT. So a command that appends to three streams costs one
 * append, and every read in the transaction still sees every write made before it.
 */
interface Unit {
  raw: Queryable;
  /** What the projections and reactors run on while the unit flushes: the raw transaction, under the unit's name. */
  inner: Queryable;
  pending: PendingAppend[];
  flushing: Promise<void> | null;
}

const units = new WeakMap<Queryable, Unit>();
/** The handle every per-transaction record is kept under: a unit's inner view counts as the unit. */
const roots = new WeakMap<Queryable, Queryable>();
const rootOf = (tx: Queryable): Queryable => roots.get(tx) ?? tx;

/** No personal data handling (the event-store suite, tools that read the log as stored). */
const storedAsIs: EventSealer = {
  seal: async (_tx, events, metadata) => events.map((event) => ({ event, metadata, readable: { data: event.data, metadata } })),
  unseal: async (_q, events) => events,
};

export class EventStore {
  constructor(
    readonly db: Db,
    private readonly knownEventTypes: ReadonlySet<string>,
    private readonly effects: AppendEffects = noEffects,
    /** Seals personal data on append and opens it on read (issue 14 item 0); hashes cover the sealed form. */
    readonly sealer: EventSealer = storedAsIs,
    private readonly observer?: EventStoreObserver,
    /** Seals snapshot states; without it no snapshot is read or written: every fold starts from the log. */
    private readonly snapshots?: SnapshotSealer,
  ) {}

  /** Opens the personal data of events a caller read from the table itself (rebuilds, time travel, the audit log). */
  unseal(q: Queryable, events: RecordedEvent[]): Promise<RecordedEvent[]> {
    return this.sealer.unseal(q, events);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.committed(fn);
  }

  /**
   * Runs a transaction as a unit of work (above), then, if it appended, wakes the log's readers (the live feed) once it
   * has committed. The wake-up is sent after the commit and outside it: a NOTIFY inside every append would take
   * PostgreSQL's notify lock at each commit and serialize all writers. Readers also poll, so a wake-up coalesced with
   * another loses nothing.
   */
  private async committed<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let appended: RecordedEvent[] | undefined;
    // A command's statements all find rows by key: generic plans (TransactionOptions.genericPlans).
    const result = await this.db.transaction(async (raw) => {
      const unit = this.unitOver(raw);
      const value = await fn(unit);
      // The unit's appends go out last, and commit in the same round trip when nothing has to run after them.
      await this.flush(unit, true);
      // A hold no append checked is checked on its own before the COMMIT: what it guards must not go unchecked.
      const holds = holdsIn.get(unit);
      if (holds) {
        holdsIn.delete(unit);
        await this.checkHolds(raw, holds);
      }
      appended = appendedIn.get(unit);
      return value;
    }, { genericPlans: true });
    if (appended) {
      this.wakeReaders();
      this.observer?.committed(appended);
    }
    return result;
  }

  private unitOver(raw: Queryable): Queryable {
    const inner: Queryable = { query: (text, params) => raw.query(text, params) };
    const unit: Unit = { raw, inner, pending: [], flushing: null };
    const handle: Queryable = {
      query: async (text, params) => {
        if (unit.pending.length > 0 || unit.flushing) await this.flush(handle);
        return raw.query(text, params);
      },
    };
    units.set(handle, unit);
    roots.set(inner, handle);
    return handle;
  }

  /**
   * Sends a unit's waiting appends as one; appends its reactors make meanwhile go out at once (not deferred). `last`:
   * the transaction ends after this, so its append may commit it (appendBatch).
   */
  private flush(tx: Queryable, last = false): Promise<void> {
    const unit = units.get(tx);
    if (!unit) return Promise.resolve();
    if (unit.flushing) return unit.flushing;
    if (unit.pending.length === 0) return Promise.resolve();
    unit.flushing = (async () => {
      try {
        while (unit.pending.length > 0) await this.appendBatch(unit.inner, unit.pending.splice(0), { committing: last ? unit.raw : undefined });
      } finally {
        unit.flushing = null;
      }
    })();
    return unit.flushing;
  }

  private wakeTimer: NodeJS.Timeout | null = null;
  private lastWake = 0;

  /**
   * At most one wake-up per instance every `wakeIntervalMs`: the first commit after a quiet spell sends one at once,
   * commits within the interval after it share one sent at its end. Under load that is a few statements a second per
   * instance instead of one per commit, for a reader that is woken at most that much later.
   */
  private wakeReaders(): void {
    if (this.wakeTimer) return;
    const wait = Math.max(0, this.lastWake + wakeIntervalMs - Date.now());
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.lastWake = Date.now();
      void this.db.query(`select pg_notify('${logAppendedChannel}', '')`).catch(() => {});
    }, wait);
    this.wakeTimer.unref();
  }

  /**
   * One load-decide-append unit in a transaction, run again while another writer wins the race on one of its streams:
   * each round re-reads the winner's events, so a replayed code or a taken email is then decided against the new state.
   */
  async transactionWithRetry<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let round = 1; ; round++) {
      try {
        return await this.committed(fn);
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || round >= maxConflictRounds) throw error;
      }
    }
  }

  /**
   * Draws positions for the transaction's coming appends with the next stream read it sends, in the same write, right
   * after that read (a command that knows how many events it will append on success says so before it reads): the
   * append then draws none, a round trip fewer. After the read, never before it: see SparePositions. Positions left
   * unused are gaps, as a rolled-back append's are; an append that needs more, or to a stream whose head was not read
   * before the draw, draws its own as before (so does one that comes before any read). PostgreSQL only: PGlite has no
   * round trips to save.
   */
  drawAhead(tx: Queryable, count: number): void {
    const root = rootOf(tx);
    if (this.db.kind !== 'postgres' || count <= 0 || sparePositionsIn.has(root) || drawsAsked.has(root)) return;
    drawsAsked.set(root, count);
  }

  /**
   * Sends the draw asked for ahead, if any, right after a stream read the transaction has just sent on `tx` (queued
   * behind it on the same connection, so PostgreSQL runs it after the read): the heads of those streams, and of every
   * stream read before, were read before these positions were drawn.
   */
  private drawAfterRead(tx: Queryable, streamIds: readonly string[]): void {
    const root = rootOf(tx);
    const count = drawsAsked.get(root);
    if (count === undefined) return;
    drawsAsked.delete(root);
    const headsBefore = new Set([...streamIds, ...(headsReadIn.get(root)?.keys() ?? []), ...(streamsReadIn.get(root)?.keys() ?? [])]);
    const drawn = tx.query<{ p: number; tx_id: string }>(
      `select nextval(pg_get_serial_sequence('events', 'position')) as p, pg_current_xact_id()::text as tx_id from generate_series(1, $1)`, [count],
    ).then((rows) => ({ txId: rows[0]!.tx_id, positions: rows.map((r) => Number(r.p)).sort((a, b) => a - b), headsBefore }));
    // Its failure is the transaction's, and surfaces at its next statement; the append awaits it only if it gets there.
    drawn.catch(() => {});
    sparePositionsIn.set(root, drawn);
  }

  /** Appends at the expected version, chains the hashes and runs the inline projections, all in one transaction. */
  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.validate(streamId, events);
    if (options.tx) return this.appendIn(options.tx, streamId, events, options);
    try {
      const alone = await this.appendAlone(pendingAppend(streamId, events, options));
      if (alone) return { nextExpectedVersion: alone[alone.length - 1]!.version, events: alone };
      return await this.committed((tx) => this.appendIn(tx, streamId, events, options));
    } catch (error) {
      throw asConcurrencyError(error, streamId, options.expectedVersion) ?? error;
    }
  }

  /**
   * An append outside any transaction, when nothing has to run after its writes (no reactor, or only reactions planned
   * ahead) and they make one statement (oneStatement.ts): that statement is atomic on its own, so no BEGIN and COMMIT
   * are needed, only the positions drawn before it. PostgreSQL only (PGlite has one connection and gains nothing).
   * Null: it was not made.
   */
  private async appendAlone(append: PendingAppend): Promise<RecordedEvent[] | null> {
    if (this.db.kind !== 'postgres') return null;
    // A handle of its own, so nothing is remembered under the pool as if it were a transaction.
    const alone: Queryable = { query: (text, params) => this.db.query(text, params) };
    const recorded = await this.appendBatch(alone, [append], { alone: true });
    if (recorded) {
      this.wakeReaders();
      this.observer?.committed(appendedIn.get(alone) ?? recorded);
    }
    return recorded;
  }

  /**
   * How many events the reactions to these events append in the append's own statement (0 when nothing reacts to
   * them); null when a reactor must read first, and so runs after the append's writes (`react`).
   */
  private reactionsAhead(events: readonly NewEvent[]): number | null {
    if (!this.effects.reactsTo(events)) return 0;
    return this.effects.reactionsWithoutReads?.count(events) ?? null;
  }

  /**
   * The command handler's append: in a unit of work (a store transaction) it waits and goes out with the unit's other
   * appends as one (see Unit); a version conflict then surfaces when the unit flushes, still inside the transaction,
   * so transactionWithRetry runs the unit again as before. Anywhere else it is an ordinary append.
   */
  async appendDeferred(streamId: string, events: readonly NewEvent[], options: AppendOptions & { tx: Queryable }): Promise<void> {
    this.validate(streamId, events);
    const unit = units.get(options.tx);
    if (!unit || unit.flushing) {
      await this.appendIn(options.tx, streamId, events, options);
      return;
    }
    streamsReadIn.get(options.tx)?.delete(streamId);
    unit.pending.push(pendingAppend(streamId, events, options));
  }

  private async appendIn(tx: Queryable, streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    // Anything waiting in the unit goes first (the flush's own appends run on its inner view, never waiting here).
    await this.flush(tx);
    const recorded = (await this.appendBatch(tx, [pendingAppend(streamId, events, options)]))!;
    return { nextExpectedVersion: recorded[recorded.length - 1]!.version, events: recorded };
  }

  /**
   * Appends to one or more streams at their expected versions in two statements whatever their number: the positions
   * drawn (with the heads not already known), then one statement that inserts every event, upserts every head and
   * writes the inline projections of all of them (below). Null only `alone`, when they cannot be one statement.
   */
  private async appendBatch(tx: Queryable, batch: readonly PendingAppend[], options: BatchOptions = {}): Promise<RecordedEvent[] | null> {
    const { committing } = options;
    const started = this.observer ? process.hrtime.bigint() : 0n;
    const root = rootOf(tx);
    const total = batch.reduce((n, a) => n + a.events.length, 0);
    // A new stream (expected version 0) has no head to look up: if it exists after all, version 1 is taken and the
    // insert fails on the unique index, exactly as a lost race does. Heads this transaction read need no lookup either.
    const heads = new Map<string, { version: number; hash: string }>();
    const unknown: string[] = [];
    for (const a of batch) {
      if (heads.has(a.streamId) || unknown.includes(a.streamId)) continue;
      const known = a.expectedVersion === 0 ? { version: 0, hash: genesisHash } : headsReadIn.get(root)?.get(a.streamId);
      if (known) heads.set(a.streamId, known);
      else unknown.push(a.streamId);
    }
    // Each event's hash covers its global position (hash version 2), so the positions are drawn before the insert,
    // with the heads not known yet in the same statement. A rolled-back append leaves a gap in positions, as before.
    // The transaction's id comes with them (alone, from the insert: see appendAlone): the events are never read back.
    // Reactions planned ahead (reactionsAhead) get their positions with the events'. Each event a reactor answers after
    // the writes gets one more, kept for the transaction: the reaction's own append (a notification, a lock) then draws
    // none. One that is not used is a gap, like a rolled-back append's.
    const planned = this.reactionsAhead(batch.flatMap((a) => a.events));
    // Alone, a reactor that must read after the writes needs a transaction: not made here.
    if (options.alone && planned === null) return null;
    const wanted = total + (planned ?? 0);
    // A draw asked for ahead that no read sent: this append draws its own.
    drawsAsked.delete(root);
    const spare = await sparePositionsIn.get(root);
    const reuse = !options.alone && unknown.length === 0 && spare !== undefined && spare.positions.length >= wanted
      && batch.every((a) => a.expectedVersion === 0 || spare.headsBefore.has(a.streamId));
    const ahead = reuse ? 0 : planned ?? batch.reduce((n, a) => n + a.events.filter((e) => this.effects.reactsTo([e])).length, 0);
    const drawPositions = reuse ? Promise.resolve([]) : tx.query<{ p: number; tx_id: string | null; heads: Array<[string, number, string]> | null }>(
      `select nextval(pg_get_serial_sequence('events', 'position')) as p, ${options.alone ? 'null' : 'pg_current_xact_id()::text'} as tx_id,
              (select jsonb_agg(jsonb_build_array(stream_id, version, head_hash)) from streams where stream_id = any($2::text[])) as heads
         from generate_series(1, $1)`,
      [total + ahead, unknown],
    );
    // What is stored (and hashed) is the sealed form, each append's events with its own metadata; what the sealer says a
    // reader will see of it goes to the inline projections and reactors. The appends are sealed one after the other, so
    // a data key not yet cached is fetched once for all of them (they are mostly one person's), in the same pipeline as
    // the positions.
    const sealAll = async (): Promise<SealedEvent[][]> => {
      const out: SealedEvent[][] = [];
      for (const a of batch) out.push(await this.sealer.seal(tx, a.events, a.metadata));
      return out;
    };
    let drawn: Array<{ p: number; tx_id: string | null; heads: Array<[string, number, string]> | null }>;
    let sealed: SealedEvent[][];
    if (this.db.kind === 'postgres') [drawn, sealed] = await Promise.all([drawPositions, sealAll()]);
    else {
      drawn = await drawPositions;
      sealed = await sealAll();
    }
    // Not `drawn[0]?.heads`: with positions reused nothing is drawn, and a read past an array's end deoptimizes this
    // function each time the other path comes back (seen with --trace-deopt: "out of bounds", a dozen recompilations
    // of it per thousand MFA steps).
    const found = drawn.length > 0 ? drawn[0]!.heads ?? [] : [];
    for (const streamId of unknown) {
      const row = found.find(([id]) => id === streamId);
      heads.set(streamId, row ? { version: row[1], hash: row[2] } : { version: 0, hash: genesisHash });
    }
    let positions: number[];
    let txId: string;
    if (reuse) {
      positions = spare!.positions.splice(0, wanted);
      txId = spare!.txId;
    } else {
      const all = drawn.map((r) => Number(r.p)).sort((a, b) => a - b);
      positions = all.slice(0, wanted);
      txId = drawn[0]!.tx_id ?? '';
      // Drawn in the statement that looked the unknown heads up, after the known ones were read.
      if (all.length > wanted) sparePositionsIn.set(root, { txId, positions: all.slice(wanted), headsBefore: new Set(heads.keys()) });
    }
    let next = 0;
    const rows: Array<{ stream_id: string; position: number; version: number; type: string; data: Record<string, unknown>; metadata: EventMetadata; recorded_at: string; prev_hash: string; hash: string }> = [];
    /** Chains a stream's sealed events onto its head, as rows to insert and as the events recorded. */
    const record = (a: Pick<PendingAppend, 'streamId' | 'expectedVersion' | 'recordedAt'>, events: readonly SealedEvent[], into: RecordedEvent[]): void => {
      const head = heads.get(a.streamId)!;
      if (a.expectedVersion !== 'any' && a.expectedVersion !== head.version) throw new ConcurrencyError(a.streamId, a.expectedVersion, head.version);
      let prevHash = head.hash;
      events.forEach(({ event, metadata, readable }, index) => {
        const version = head.version + index + 1;
        const position = positions[next++];
        if (position === undefined) throw new Error('reactions planned ahead appended more events than they counted');
        const hash = eventHash({ prevHash, streamId: a.streamId, version, type: event.type, data: event.data, metadata, recordedAt: a.recordedAt, position, hashVersion: currentHashVersion });
        rows.push({ stream_id: a.streamId, position, version, type: event.type, data: event.data, metadata, recorded_at: a.recordedAt.toISOString(), prev_hash: prevHash, hash });
        // As a read of the row would give it: JSON values, not the objects a decider built (metadata are strings, and
        // a field left undefined is not stored).
        into.push({
          position, txId, streamId: a.streamId, version, type: event.type, data: JSON.parse(JSON.stringify(readable.data)) as Record<string, unknown>,
          metadata: Object.fromEntries(Object.entries(readable.metadata).filter(([, v]) => v !== undefined)) as EventMetadata, recordedAt: a.recordedAt, prevHash, hash,
          hashVersion: currentHashVersion, ...(readable.personal ? { personal: readable.personal } : {}),
        });
        prevHash = hash;
      });
      heads.set(a.streamId, { version: head.version + events.length, hash: prevHash });
    };
    const recorded: RecordedEvent[] = [];
    batch.forEach((a, which) => record(a, sealed[which]!, recorded));
    // The reactions planned ahead: each a new stream, chained and sealed like the append's own, written with them.
    const reactions = planned ? this.effects.reactionsWithoutReads!.plan(recorded) : null;
    const everything = [...recorded];
    for (const reaction of reactions?.appends ?? []) {
      heads.set(reaction.streamId, { version: 0, hash: genesisHash });
      record({ ...reaction, expectedVersion: 0 }, await this.sealer.seal(tx, reaction.events, reaction.metadata), everything);
    }
    const touched = [...new Set(everything.map((e) => e.streamId))];
    // Streams held at a version read outside the transaction (holdAtVersion) are checked by the insert itself, once,
    // before it writes a row: a head that has moved fails the statement, and nothing of it is written.
    const holds = holdsIn.get(root);
    if (holds) holdsIn.delete(root);
    const insert: Statement = holds
      ? { text: insertEventsHolding, params: [JSON.stringify(rows), currentHashVersion, holds.map((h) => h.streamId), holds.map((h) => h.version)] }
      : { text: insertEvents, params: [JSON.stringify(rows), currentHashVersion] };
    const upsertHeads: Statement = {
      text: `insert into streams (stream_id, version, head_hash)
       select h.stream_id, h.version, h.head_hash from jsonb_to_recordset($1::text::jsonb) as h(stream_id text, version int, head_hash text)
       on conflict (stream_id) do update set version = excluded.version, head_hash = excluded.head_hash`,
      params: [JSON.stringify(touched.map((streamId) => ({ stream_id: streamId, version: heads.get(streamId)!.version, head_hash: heads.get(streamId)!.hash })))],
    };
    // The events, their heads and the inline projections: one statement when they can be (oneStatement.ts), else one
    // each, pipelined, in that order. A lost race fails the events' insert on the unique index, and that is what is
    // thrown (the statements after it then fail only because the transaction has).
    const writes = [insert, upsertHeads, ...this.effects.statements(everything), ...(reactions?.statements ?? [])];
    // The transaction's id comes back from the writes when the positions' statement could not know it: alone (the
    // statement is its own transaction), or positions read ahead outside the transaction (adoptReadAhead).
    const askTxId = options.alone || txId === '';
    const one = asOneStatement(writes, askTxId ? 'count(*), pg_current_xact_id()::text as tx_id' : undefined);
    if (options.alone && !one) return null;
    const first = batch[0]!;
    // The end of a transaction with no reactor left to run: the statement and the COMMIT in one round trip.
    const commitNow = committing?.queryAndCommit && one && planned !== null ? committing : undefined;
    const txIdQuery: Statement = { text: 'select pg_current_xact_id()::text as tx_id', params: [] };
    let answered: Array<{ tx_id?: string }>;
    try {
      if (commitNow) answered = await commitNow.queryAndCommit!(one!.text, one!.params);
      else if (one) answered = await tx.query(one.text, one.params);
      else if (this.db.kind === 'postgres') {
        const settled = await Promise.allSettled([...writes, ...(askTxId ? [txIdQuery] : [])].map((w) => tx.query(w.text, w.params)));
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        answered = (settled.at(-1) as PromiseFulfilledResult<Row[]>).value;
      } else {
        for (const w of writes) await tx.query(w.text, w.params);
        answered = askTxId ? await tx.query(txIdQuery.text) : [];
      }
    } catch (error) {
      throw asHoldLost(error, holds) ?? asConcurrencyError(error, first.streamId, first.expectedVersion) ?? error;
    }
    if (askTxId) for (const event of everything) event.txId = answered[0]!.tx_id!;
    const inTx = appendedIn.get(root);
    if (inTx) inTx.push(...everything);
    else appendedIn.set(root, everything);
    for (const streamId of touched) {
      rememberHead(root, streamId, heads.get(streamId)!.version, heads.get(streamId)!.hash);
      streamsReadIn.get(root)?.delete(streamId);
    }
    if (planned === null) await this.effects.react(tx, recorded);
    this.observer?.appended(Number(process.hrtime.bigint() - started) / 1e9, everything);
    return recorded;
  }

  /**
   * Reads several streams in one statement, each from its snapshot if it has one (the snapshot row, and the events from
   * its version on), and keeps them for the transaction's next read of each (until it appends to one): a command about
   * to load them one by one loads them in one go.
   */
  async readStreams(streamIds: readonly string[], tx: Queryable): Promise<void> {
    this.keepRead(rootOf(tx), await this.readFromSnapshots(streamIds, tx));
  }

  /** Keeps streams read for the transaction's next read of each (until it appends to one). */
  private keepRead(root: Queryable, ahead: ReadonlyMap<string, ReadAhead>): void {
    let cache = streamsReadIn.get(root);
    if (!cache) streamsReadIn.set(root, (cache = new Map()));
    for (const [streamId, read] of ahead) {
      cache.set(streamId, read);
      // Read whole: its head is known, so the append need not look it up (one read from a snapshot is
      // remembered by readFolded, which checks the snapshot first).
      if (!read.snapshot) {
        const last = read.events[read.events.length - 1];
        rememberHead(root, streamId, last?.version ?? 0, last?.hash ?? genesisHash);
      }
    }
  }

  /**
   * Reads several streams in one statement outside any transaction, for the loads that follow: pass the handle it
   * returns where a load takes a transaction, and those streams come from this read (no statement of their own).
   */
  async readTogether(streamIds: readonly string[]): Promise<Queryable> {
    // A handle of its own, so what is kept for it is never mistaken for a transaction's (or another request's).
    const reads: Queryable = { query: (text, params) => this.db.query(text, params) };
    await this.readStreams(streamIds, reads);
    return reads;
  }

  /** One statement: each stream's snapshot row (if any) and its events from the snapshot's version on (else all). */
  private async readFromSnapshots(streamIds: readonly string[], q: Queryable): Promise<Map<string, ReadAhead>> {
    const read = q.query<StreamReadRow>(this.streamsReadSql('$1::text[]'), [streamIds]);
    this.drawAfterRead(q, streamIds);
    return this.aheadFromRows(q, streamIds, await read);
  }

  /**
   * The read of readFromSnapshots, for the streams `ids` (an SQL expression of type text[]): with snapshots, each
   * stream's snapshot row and its events from the snapshot's version on, else its events, in stream and version order.
   */
  private streamsReadSql(ids: string): string {
    if (!this.snapshots) {
      return `select null::text as snapshot_kind, null::text as snapshot_state, ${eventColumns} from events where stream_id = any(${ids}) order by stream_id, version`;
    }
    // The lateral read starts each stream's index range scan at its snapshot's version: the events before it are
    // never touched, however many there are.
    return `with snaps as (select stream_id, kind, version, head_hash, state from snapshots where stream_id = any(${ids}))
       select null::text as snapshot_kind, null::text as snapshot_state, ${eventColumns.replace(/(^|, )/g, '$1e.')}
         from unnest(${ids}) as ids(stream_id)
         left join snaps s on s.stream_id = ids.stream_id
         cross join lateral (select * from events ev where ev.stream_id = ids.stream_id and ev.version >= coalesce(s.version, 1) order by ev.version offset 0) e
       union all
       select kind, state, 0, null, stream_id, version, null, null, null, null, null, head_hash, null from snaps
       order by stream_id, version, snapshot_kind nulls first`;
  }

  /** The rows of streamsReadSql, opened (one key lookup at most for every stream read), as each stream's read. */
  private async aheadFromRows(q: Queryable, streamIds: readonly string[], rows: readonly StreamReadRow[]): Promise<Map<string, ReadAhead>> {
    const result = new Map<string, ReadAhead>(streamIds.map((id) => [id, { snapshot: null, events: [] }]));
    const events: RecordedEvent[] = [];
    for (const row of rows) {
      if (row.snapshot_kind !== null) result.get(row.stream_id)!.snapshot = { kind: row.snapshot_kind, version: row.version, head_hash: row.hash, state: row.snapshot_state! };
      else events.push(toRecordedEvent(row));
    }
    for (const event of await this.sealer.unseal(q, events)) result.get(event.streamId)!.events.push(event);
    return result;
  }

  /**
   * A read ahead, made by a statement outside the command's transaction (the caller's token lookup reads, with the
   * pending login it finds, the streams its MFA step loads, and draws the positions it appends), as SQL to join
   * laterally: one row per event or snapshot readFromSnapshots would read of the streams `ids` (an SQL expression of
   * type text[]), with the ids and `count` positions (an SQL expression) on each, every column prefixed `ahead_`.
   * The positions are drawn in the same statement, after its snapshot: whoever appended to those streams before it
   * drew lower ones, and whoever appends after it makes the command's append fail on the version it read. No ids:
   * nothing is read or drawn. readAheadOf takes it from the rows, adoptReadAhead into the command's transaction.
   * PostgreSQL only.
   */
  readAheadSql(ids: string, count: string): string {
    // The same few expressions on every request (a token lookup, a login): built once each.
    const key = `${ids}\n${count}`;
    let sql = this.readAheadSqls.get(key);
    if (sql === undefined) {
      const columns = ['snapshot_kind', 'snapshot_state', ...eventColumns.split(', ').map((c) => c.replace(/^.* as /, ''))];
      sql = `select a.ids as ahead_ids, p.positions as ahead_positions, ${columns.map((c) => `r.${c} as ahead_${c}`).join(', ')}
         from (select ${ids} as ids) a
         cross join lateral (select array_agg(nextval(pg_get_serial_sequence('events', 'position'))) as positions
                               from generate_series(1, case when cardinality(a.ids) > 0 then ${count} else 0 end)) p
         left join lateral (${this.streamsReadSql('a.ids')}) r on true`;
      this.readAheadSqls.set(key, sql);
    }
    return sql;
  }

  private readonly readAheadSqls = new Map<string, string>();

  /**
   * Takes a read ahead (readAheadSql) as the transaction's own reads of its streams and its drawn positions, if it read
   * exactly `streamIds` and no transaction took it before (a retry after a lost race reads again, in the transaction).
   * Those streams' next loads and the appends it drew for then cost no statement. Safe as a transaction's own reads
   * are: an append at the version read fails if anyone appended since. False: not taken; read as usual.
   */
  async adoptReadAhead(tx: Queryable, ahead: ReadAheadRow | undefined, streamIds: readonly string[]): Promise<boolean> {
    if (!this.firstTaking(ahead)) return false;
    const root = rootOf(tx);
    if (!readExactly(ahead, streamIds) || streamsReadIn.has(root) || sparePositionsIn.has(root)) return false;
    this.keepRead(root, await this.aheadFromRows(tx, streamIds, ahead.rows as StreamReadRow[]));
    takePositions(root, ahead, streamIds);
    return true;
  }

  /**
   * Takes only a read ahead's positions, for the transaction's appends to new streams: for a command that decided on
   * the streams it read outside the transaction (readAheadReads), and holds what it relied on (holdAtVersion) instead
   * of reading it again. Its reads are not the transaction's, so no append to those streams may take these positions
   * (it draws its own, after its own read). Only once, as adoptReadAhead. False: not taken.
   */
  adoptPositionsAhead(tx: Queryable, ahead: ReadAheadRow | undefined): boolean {
    if (!this.firstTaking(ahead)) return false;
    const root = rootOf(tx);
    if (!ahead.positions?.length || sparePositionsIn.has(root)) return false;
    takePositions(root, ahead, []);
    return true;
  }

  /** A read ahead no transaction has taken yet, now taken (PostgreSQL only: PGlite has no round trips to save). */
  private firstTaking(ahead: ReadAheadRow | undefined): ahead is ReadAheadRow {
    if (!ahead || adopted.has(ahead) || this.db.kind !== 'postgres') return false;
    adopted.add(ahead);
    return true;
  }

  /**
   * The streams a read ahead read (readAheadSql), outside any transaction, as readTogether gives them: pass the handle
   * where a load takes a transaction, and those streams come from that read. Null when it did not read exactly
   * `streamIds`.
   */
  async readAheadReads(ahead: ReadAheadRow | undefined, streamIds: readonly string[]): Promise<Queryable | null> {
    if (!ahead || !readExactly(ahead, streamIds)) return null;
    const reads: Queryable = { query: (text, params) => this.db.query(text, params) };
    this.keepRead(reads, await this.aheadFromRows(reads, streamIds, ahead.rows as StreamReadRow[]));
    return reads;
  }

  /**
   * Holds `streamId` at `version`, the version a decision read outside the transaction, until the transaction ends
   * (FOR SHARE on its head: a writer to that stream waits for this commit), checked in the statement of the
   * transaction's next append instead of a round trip of its own. A head that has moved fails that statement, and
   * nothing of it is written: a ConcurrencyError, so transactionWithRetry runs the transaction again. A transaction
   * that appends nothing checks it before its COMMIT. The check is the SQL function of migration 060.
   */
  holdAtVersion(tx: Queryable, streamId: string, version: number): void {
    const root = rootOf(tx);
    const holds = holdsIn.get(root);
    if (holds) holds.push({ streamId, version });
    else holdsIn.set(root, [{ streamId, version }]);
  }

  private async checkHolds(tx: Queryable, holds: ReadonlyArray<{ streamId: string; version: number }>): Promise<void> {
    try {
      await tx.query(holdCheck(1), [holds.map((h) => h.streamId), holds.map((h) => h.version)]);
    } catch (error) {
      throw asHoldLost(error, holds) ?? error;
    }
  }

  /**
   * A stream's state: its snapshot (when one is there and proves authentic for this stream, kind, version and head
   * hash) plus the events after it, else the whole log. A snapshot is a cache: missing, stale, corrupt or copied from
   * elsewhere, it is ignored and the state is folded from the log, so it can never change a decision. After a fold of
   * `snapshotEvery` events or more a new one is written, outside the transaction and unawaited, and only from events
   * this transaction did not write itself (so never from an append that may still roll back).
   */
  async readFolded<State>(streamId: string, fold: Fold<State>, tx?: Queryable): Promise<Folded<State>> {
    const root = tx ? rootOf(tx) : undefined;
    const ahead = (root ? streamsReadIn.get(root)?.get(streamId) : undefined) ?? (await this.readFromSnapshots([streamId], tx ?? this.db)).get(streamId)!;
    let base: { state: State; version: number } | null = null;
    let tail = ahead.events;
    if (ahead.snapshot) {
      base = this.openSnapshot(streamId, fold, ahead.snapshot, tail);
      if (base) tail = tail.filter((e) => e.version > base!.version);
      else if (ahead.snapshot.version > 1 || tail[0]?.version !== 1) tail = await this.readStream(streamId, { tx });
    }
    const state = tail.reduce(fold.evolve, base?.state ?? fold.initialState);
    const last = tail[tail.length - 1] ?? (ahead.events.find((e) => e.version === base?.version));
    const version = last?.version ?? 0;
    if (root) rememberHead(root, streamId, version, last?.hash ?? genesisHash);
    const ownWrites = root ? appendedIn.get(root)?.some((e) => e.streamId === streamId) ?? false : false;
    if (this.snapshots && last && tail.length >= fold.snapshotEvery && !ownWrites && !(root && this.appendedAny(root, fold.noSnapshotAfter))) this.writeSnapshot(streamId, fold, version, last.hash, state, ahead.snapshot !== null && base === null);
    return { state, version, eventsRead: tail.length, fromSnapshot: base !== null };
  }

  /** Whether the transaction appended (or is about to append) an event of one of these types. */
  private appendedAny(root: Queryable, types: readonly string[] | undefined): boolean {
    if (!types || types.length === 0) return false;
    if (appendedIn.get(root)?.some((e) => types.includes(e.type))) return true;
    return units.get(root)?.pending.some((a) => a.events.some((e) => types.includes(e.type))) ?? false;
  }

  private snapshotAad(streamId: string, kind: string, version: number, headHash: string): string {
    return `snapshot|${kind}|${streamId}|${version}|${headHash}`;
  }

  /** The snapshot's state, or null when it is not one this fold can trust (other kind, not authentic, not on the chain). */
  private openSnapshot<State>(streamId: string, fold: Fold<State>, snapshot: SnapshotRow, events: readonly RecordedEvent[]): { state: State; version: number } | null {
    if (snapshot.kind !== fold.kind) return null;
    // The event it was taken after must be the log's, hash for hash: a snapshot of a rolled-back append, or of a
    // stream since replaced, is not.
    const at = events.find((e) => e.version === snapshot.version);
    if (!at || at.hash !== snapshot.head_hash) return null;
    try {
      return { state: JSON.parse(this.snapshots!.open(snapshot.state, this.snapshotAad(streamId, fold.kind, snapshot.version, snapshot.head_hash))) as State, version: snapshot.version };
    } catch {
      return null;
    }
  }

  private writeSnapshot<State>(streamId: string, fold: Fold<State>, version: number, headHash: string, state: State, replaceInvalid: boolean): void {
    const sealed = this.snapshots!.seal(JSON.stringify(state), this.snapshotAad(streamId, fold.kind, version, headHash));
    // A newer snapshot is never replaced by an older one, unless the one there proved invalid.
    void this.db.query(
      `insert into snapshots (stream_id, kind, version, head_hash, state) values ($1, $2, $3, $4, $5)
       on conflict (stream_id) do update set kind = excluded.kind, version = excluded.version, head_hash = excluded.head_hash, state = excluded.state, written_at = now()
       where snapshots.version < excluded.version or $6::boolean`,
      [streamId, fold.kind, version, headHash, sealed, replaceInvalid],
    ).catch(() => {});
  }

  async readStream(streamId: string, options: { tx?: Queryable; fromVersion?: number } = {}): Promise<RecordedEvent[]> {
    const readAhead = options.tx && (options.fromVersion ?? 1) === 1 ? streamsReadIn.get(rootOf(options.tx))?.get(streamId) : undefined;
    // Read ahead whole in this transaction and not appended to since (deferring an append drops it): the same rows, so
    // a read of it need not wait for the unit's other appends either.
    if (readAhead && !readAhead.snapshot) return readAhead.events;
    const q = options.tx ?? this.db;
    const read = q.query<EventRow>(
      `select ${eventColumns} from events where stream_id = $1 and version >= $2 order by version`,
      [streamId, options.fromVersion ?? 1],
    );
    this.drawAfterRead(q, [streamId]);
    const rows = await read;
    const events = await this.sealer.unseal(q, rows.map(toRecordedEvent));
    if (options.tx && (options.fromVersion ?? 1) === 1) {
      const last = events[events.length - 1];
      rememberHead(rootOf(options.tx), streamId, last?.version ?? 0, last?.hash ?? genesisHash);
    }
    return events;
  }

  /**
   * Holds a stream as it is until the transaction ends: its head row is locked, so no other writer can append to it
   * meanwhile, and a decision taken on an earlier read stays true until commit. 'update' when this transaction will
   * append to the stream itself (two holders upgrading a shared lock would deadlock). Returns the version.
   */
  async holdStream(streamId: string, tx: Queryable, mode: 'share' | 'update' = 'share'): Promise<number> {
    const held = tx.query<{ version: number }>(`select version from streams where stream_id = $1 for ${mode === 'share' ? 'share' : 'update'}`, [streamId]);
    this.drawAfterRead(tx, []);
    const [row] = await held;
    return row?.version ?? 0;
  }

  async streamVersion(streamId: string, tx?: Queryable): Promise<number> {
    const [row] = await (tx ?? this.db).query<{ version: number }>(`select version from streams where stream_id = $1`, [streamId]);
    return row?.version ?? 0;
  }

  /**
   * Events after a checkpoint, never skipping one that commits later with a lower position: only transactions older
   * than every running one are visible, so what this returns can never be preceded by something that appears later.
   */
  async readAll(after: LogCheckpoint, limit: number, tx?: Queryable): Promise<RecordedEvent[]> {
    const rows = await (tx ?? this.db).query<EventRow>(
      `select ${eventColumns} from events
        where tx_id < pg_snapshot_xmin(pg_current_snapshot())
          and (tx_id, position) > ($1::xid8, $2::bigint)
        order by events.tx_id, events.position
        limit $3`,
      [after.txId, after.position, limit],
    );
    return this.sealer.unseal(tx ?? this.db, rows.map(toRecordedEvent));
  }

  /** Events at the given positions, in position order (evidence lookups: attack detection names its events' addresses). */
  async readPositions(positions: readonly number[], tx?: Queryable): Promise<RecordedEvent[]> {
    if (positions.length === 0) return [];
    const rows = await (tx ?? this.db).query<EventRow>(
      `select ${eventColumns} from events where position = any($1::bigint[]) order by position`, [positions.map(String)],
    );
    return this.sealer.unseal(tx ?? this.db, rows.map(toRecordedEvent));
  }

  /** The rest of one transaction's events after a position: a reader that cut a batch inside a transaction completes it. */
  async readRestOfTransaction(at: LogCheckpoint, tx?: Queryable): Promise<RecordedEvent[]> {
    const rows = await (tx ?? this.db).query<EventRow>(
      `select ${eventColumns} from events where tx_id = $1::xid8 and position > $2 order by position`, [at.txId, at.position],
    );
    return this.sealer.unseal(tx ?? this.db, rows.map(toRecordedEvent));
  }

  private validate(streamId: string, events: readonly NewEvent[]): void {
    if (!streamIdPattern.test(streamId)) throw new EventStoreError('INVALID_STREAM_ID', `malformed stream id`);
    if (events.length === 0) throw new EventStoreError('INVALID_PAYLOAD', 'nothing to append');
    for (const event of events) {
      if (!this.knownEventTypes.has(event.type)) throw new EventStoreError('UNKNOWN_EVENT_TYPE', `unknown event type ${event.type}`);
      if (event.data === null || typeof event.data !== 'object' || Array.isArray(event.data)) {
        throw new EventStoreError('INVALID_PAYLOAD', `event data must be an object`);
      }
      const bytes = Buffer.byteLength(JSON.stringify(event.data));
      if (bytes > maxEventPayloadBytes) throw new EventStoreError('PAYLOAD_TOO_LARGE', `event data is ${bytes} bytes, over ${maxEventPayloadBytes}`);
    }
  }
}

function pendingAppend(streamId: string, events: readonly NewEvent[], options: AppendOptions): PendingAppend {
  return { streamId, events, expectedVersion: options.expectedVersion, metadata: options.metadata ?? {}, recordedAt: options.now ?? new Date() };
}

function rememberHead(tx: Queryable, streamId: string, version: number, hash: string): void {
  let heads = headsReadIn.get(tx);
  if (!heads) headsReadIn.set(tx, (heads = new Map()));
  heads.set(streamId, { version, hash });
}

/** Whether a read ahead read exactly `streamIds` (a read of other streams must never pass for theirs). */
function readExactly(ahead: ReadAheadRow, streamIds: readonly string[]): boolean {
  const read = new Set(ahead.ids);
  return read.size === streamIds.length && streamIds.every((id) => read.has(id));
}

/**
 * A read ahead's positions as the transaction's spare ones, for new streams and `headsBefore` (streams the transaction
 * read in that same read ahead). Their transaction id is not known yet: the append asks for it (appendBatch).
 */
function takePositions(root: Queryable, ahead: ReadAheadRow, headsBefore: readonly string[]): void {
  const positions = (ahead.positions ?? []).map(Number).sort((a, b) => a - b);
  if (positions.length > 0) sparePositionsIn.set(root, { txId: '', positions, headsBefore: new Set(headsBefore) });
  drawsAsked.delete(root);
}

/** A held stream found moved (tessera_hold_stream), as the lost race it is. */
function asHoldLost(error: unknown, holds: ReadonlyArray<{ streamId: string; version: number }> | undefined): ConcurrencyError | undefined {
  if (!holds || sqlState(error) !== heldStreamMoved) return undefined;
  const moved = holds.find((h) => String(error).includes(h.streamId)) ?? holds[0]!;
  return new ConcurrencyError(moved.streamId, moved.version);
}

/** The loser of a race on one stream fails on the unique (stream, version) index: that is a ConcurrencyError, not a 500. */
function asConcurrencyError(error: unknown, streamId: string, expected: ExpectedVersion): ConcurrencyError | undefined {
  if (error instanceof ConcurrencyError) return error;
  const constraint = (error as { constraint_name?: string; constraint?: string } | null);
  if (sqlState(error) === '23505' && `${constraint?.constraint_name ?? constraint?.constraint ?? ''}${String(error)}`.includes('events_stream_version')) {
    return new ConcurrencyError(streamId, expected === 'any' ? -1 : expected);
  }
  return undefined;
}
