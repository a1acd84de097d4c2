// The Postgres event log (DESIGN.md §3). It knows streams, versions and hashes, nothing of MFA.
import type { Db, Queryable, Row } from '../db/index.js';
import { sqlState } from '../db/index.js';
import { ConcurrencyError, EventStoreError } from './errors.js';
import { currentHashVersion, eventHash, genesisHash } from './hashChain.js';
import type { EventMetadata, ExpectedVersion, LogCheckpoint, NewEvent, RecordedEvent } from './types.js';

export const maxEventPayloadBytes = 64 * 1024;
/**
 * NOTIFYed by every append, at its commit, in the insert statement itself (no extra round trip): a wake-up for readers
 * of the log (the live security feed) on every instance. The log stays the source of truth; a lost wake-up costs latency.
 */
export const logAppendedChannel = 'tessera_log_appended';
const streamIdPattern = /^[a-z][a-zA-Z]*-[A-Za-z0-9_.:@-]{1,200}$/;

/** Runs in the append's transaction, after the events are inserted: inline projections. */
export type AfterAppend = (tx: Queryable, events: readonly RecordedEvent[]) => Promise<void>;

/**
 * Told what the log did, for metrics (src/observability/metrics.ts): how long each append took, and the events of each
 * transaction that committed (never those of one rolled back and retried).
 */
export interface EventStoreObserver {
  appended(seconds: number, events: readonly RecordedEvent[]): void;
  committed(events: readonly RecordedEvent[]): void;
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

/**
 * The head of each stream a transaction has read in full, so its append need not select it again. Safe: if another
 * writer commits to the stream after the read, the insert at the next version fails on the unique index as before.
 */
// Enough rounds for every one of many concurrent submitters (20 parallel uses of one code) to lose a race once;
// each round is one short transaction.
const maxConflictRounds = 64;

/** Transactions that appended, with what they appended: their commit wakes the log's readers and tells the observer. */
const appendedIn = new WeakMap<Queryable, RecordedEvent[]>();

const headsReadIn = new WeakMap<Queryable, Map<string, { version: number; hash: string }>>();

export class EventStore {
  constructor(
    readonly db: Db,
    private readonly knownEventTypes: ReadonlySet<string>,
    private readonly afterAppend: AfterAppend = async () => {},
    private readonly observer?: EventStoreObserver,
  ) {}

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.committed(fn);
  }

  /**
   * Runs a transaction, then, if it appended, wakes the log's readers (the live feed) once it has committed. The
   * wake-up is sent after the commit and outside it: a NOTIFY inside every append would take PostgreSQL's notify lock
   * at each commit and serialize all writers. Readers also poll, so a wake-up coalesced with another loses nothing.
   */
  private async committed<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let appended: RecordedEvent[] | undefined;
    const result = await this.db.transaction(async (tx) => {
      const value = await fn(tx);
      appended = appendedIn.get(tx);
      return value;
    });
    if (appended) {
      this.wakeReaders();
      this.observer?.committed(appended);
    }
    return result;
  }

  private waking = false;
  private wakeAgain = false;

  /** At most one wake-up in flight; appends that commit meanwhile are covered by one more after it. */
  private wakeReaders(): void {
    if (this.waking) {
      this.wakeAgain = true;
      return;
    }
    this.waking = true;
    void this.db.query(`select pg_notify('${logAppendedChannel}', '')`).catch(() => {}).finally(() => {
      this.waking = false;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wakeReaders();
      }
    });
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

  /** Appends at the expected version, chains the hashes and runs the inline projections, all in one transaction. */
  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.validate(streamId, events);
    if (options.tx) return this.appendIn(options.tx, streamId, events, options);
    try {
      return await this.committed((tx) => this.appendIn(tx, streamId, events, options));
    } catch (error) {
      throw asConcurrencyError(error, streamId, options.expectedVersion) ?? error;
    }
  }

  private async appendIn(tx: Queryable, streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.validate(streamId, events);
    const started = this.observer ? process.hrtime.bigint() : 0n;
    // A new stream (expected version 0) has no head to look up: if it exists after all, version 1 is taken and the
    // insert fails on the unique index, exactly as a lost race does.
    const known = options.expectedVersion === 0 ? { version: 0, hash: genesisHash } : headsReadIn.get(tx)?.get(streamId);
    // Each event's hash covers its global position (hash version 2), so the positions are drawn before the insert; on
    // PostgreSQL together with the head lookup (pipelined). A rolled-back append leaves a gap in positions, as before.
    const drawPositions = tx.query<{ p: number }>(`select nextval(pg_get_serial_sequence('events', 'position')) as p from generate_series(1, $1)`, [events.length]);
    const lookUpHead = (): Promise<Array<{ version: number; head_hash: string }>> =>
      known
        ? Promise.resolve(known.version === 0 ? [] : [{ version: known.version, head_hash: known.hash }])
        : tx.query<{ version: number; head_hash: string }>(`select version, head_hash from streams where stream_id = $1`, [streamId]);
    let drawn: Array<{ p: number }>;
    let heads: Array<{ version: number; head_hash: string }>;
    if (this.db.kind === 'postgres') [drawn, heads] = await Promise.all([drawPositions, lookUpHead()]);
    else {
      drawn = await drawPositions;
      heads = await lookUpHead();
    }
    const [head] = heads;
    const positions = drawn.map((r) => Number(r.p)).sort((a, b) => a - b);
    const currentVersion = head?.version ?? 0;
    if (options.expectedVersion !== 'any' && options.expectedVersion !== currentVersion) {
      throw new ConcurrencyError(streamId, options.expectedVersion, currentVersion);
    }
    const metadata = options.metadata ?? {};
    const recordedAt = options.now ?? new Date();
    let prevHash = head?.head_hash ?? genesisHash;
    const rows = events.map((event, index) => {
      const version = currentVersion + index + 1;
      const position = positions[index]!;
      const hash = eventHash({ prevHash, streamId, version, type: event.type, data: event.data, metadata, recordedAt, position, hashVersion: currentHashVersion });
      const row = { position, version, type: event.type, data: event.data, prevHash, hash };
      prevHash = hash;
      return row;
    });
    const last = rows[rows.length - 1]!;
    let inserted: EventRow[];
    try {
      // The head update does not wait for the insert's answer: on PostgreSQL both go out together (pipelined).
      const insert = tx.query<EventRow>(
        `insert into events (position, stream_id, version, type, data, metadata, recorded_at, prev_hash, hash, hash_version)
         overriding system value
         select r.position, $1, r.version, r.type, r.data, $3::text::jsonb, $4::timestamptz, r.prev_hash, r.hash, $5::smallint
           from jsonb_to_recordset($2::text::jsonb) as r(position bigint, version int, type text, data jsonb, prev_hash text, hash text)
         order by r.version
         returning ${eventColumns}`,
        [streamId, JSON.stringify(rows.map((r) => ({ ...r, prev_hash: r.prevHash }))), JSON.stringify(metadata), recordedAt.toISOString(), currentHashVersion],
      );
      const upsertHead = (): Promise<unknown> =>
        tx.query(
          `insert into streams (stream_id, version, head_hash) values ($1, $2, $3)
           on conflict (stream_id) do update set version = excluded.version, head_hash = excluded.head_hash`,
          [streamId, last.version, last.hash],
        );
      if (this.db.kind === 'postgres') [inserted] = await Promise.all([insert, upsertHead()]);
      else {
        inserted = await insert;
        await upsertHead();
      }
    } catch (error) {
      throw asConcurrencyError(error, streamId, options.expectedVersion) ?? error;
    }
    const recorded = inserted.map(toRecordedEvent).sort((a, b) => a.version - b.version);
    const inTx = appendedIn.get(tx);
    if (inTx) inTx.push(...recorded);
    else appendedIn.set(tx, [...recorded]);
    rememberHead(tx, streamId, last.version, last.hash);
    await this.afterAppend(tx, recorded);
    this.observer?.appended(Number(process.hrtime.bigint() - started) / 1e9, recorded);
    return { nextExpectedVersion: currentVersion + events.length, events: recorded };
  }

  async readStream(streamId: string, options: { tx?: Queryable; fromVersion?: number } = {}): Promise<RecordedEvent[]> {
    const q = options.tx ?? this.db;
    const rows = await q.query<EventRow>(
      `select ${eventColumns} from events where stream_id = $1 and version >= $2 order by version`,
      [streamId, options.fromVersion ?? 1],
    );
    const events = rows.map(toRecordedEvent);
    if (options.tx && (options.fromVersion ?? 1) === 1) {
      const last = events[events.length - 1];
      rememberHead(options.tx, streamId, last?.version ?? 0, last?.hash ?? genesisHash);
    }
    return events;
  }

  /**
   * Holds a stream as it is until the transaction ends: its head row is locked, so no other writer can append to it
   * meanwhile, and a decision taken on an earlier read stays true until commit. 'update' when this transaction will
   * append to the stream itself (two holders upgrading a shared lock would deadlock). Returns the version.
   */
  async holdStream(streamId: string, tx: Queryable, mode: 'share' | 'update' = 'share'): Promise<number> {
    const [row] = await tx.query<{ version: number }>(`select version from streams where stream_id = $1 for ${mode === 'share' ? 'share' : 'update'}`, [streamId]);
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
        order by tx_id, position
        limit $3`,
      [after.txId, after.position, limit],
    );
    return rows.map(toRecordedEvent);
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

function rememberHead(tx: Queryable, streamId: string, version: number, hash: string): void {
  let heads = headsReadIn.get(tx);
  if (!heads) headsReadIn.set(tx, (heads = new Map()));
  heads.set(streamId, { version, hash });
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
