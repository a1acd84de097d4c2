// Runs projectors: inline in each append's transaction, and in full rebuilds that replace the live tables.
import type { Db, Queryable } from '../db/index.js';
import type { EventSealer, RecordedEvent } from '../eventstore/index.js';
import { toRecordedEvent } from '../eventstore/index.js';
import { liveSchema, type Projector, type SqlStatement } from './projector.js';

export class Projections {
  private readonly byType = new Map<string, Projector[]>();

  /** Rebuilds open personal data as appends hand it to the inline projectors (the events' envelopes in `personal`). */
  private readonly unseal: EventSealer['unseal'];

  constructor(readonly db: Db, readonly projectors: readonly Projector[], sealer?: Pick<EventSealer, 'unseal'>) {
    this.unseal = sealer ? (q, events) => sealer.unseal(q, events) : async (_q, events) => events;
    for (const projector of projectors) {
      for (const type of projector.handles) this.byType.set(type, [...(this.byType.get(type) ?? []), projector]);
    }
  }

  /** Each projector's statements for its events, in event order; projectors own disjoint tables, so they are grouped. */
  statementsFor(events: readonly RecordedEvent[], schema: string): SqlStatement[] {
    const statements: SqlStatement[] = [];
    for (const projector of this.projectors) {
      const handled = events.filter((event) => this.byType.get(event.type)?.includes(projector));
      if (handled.length === 0) continue;
      if (projector.projectBatch && handled.length > 1) statements.push(...projector.projectBatch(handled, schema));
      else for (const event of handled) statements.push(...projector.project(event, schema));
    }
    return statements;
  }

  /**
   * The live tables' writes for events being appended: the event store sends them with the events, in the append's
   * transaction (AppendEffects in app.ts). No checkpoint is written: see DESIGN.md §3.
   */
  inlineStatements(events: readonly RecordedEvent[]): SqlStatement[] {
    return this.statementsFor(events, liveSchema);
  }

  /** At start-up: create the live tables on a fresh database, or rebuild when a projector's version changed. */
  async ensureLive(): Promise<'ready' | 'created' | 'rebuilt'> {
    const [schema] = await this.db.query(`select 1 from information_schema.schemata where schema_name = $1`, [liveSchema]);
    const versions = new Map(
      (await this.db.query<{ name: string; version: number }>(`select name, version from projection_versions`)).map((r) => [r.name, r.version]),
    );
    const stale = this.projectors.some((p) => versions.get(p.name) !== p.version);
    if (schema && !stale) return 'ready';
    const [anyEvent] = await this.db.query(`select 1 from events limit 1`);
    if (!schema && !anyEvent) {
      await this.db.transaction(async (tx) => {
        await tx.query(`select pg_advisory_xact_lock(7316002)`);
        const [exists] = await tx.query(`select 1 from information_schema.schemata where schema_name = $1`, [liveSchema]);
        if (exists) return;
        await createTables(tx, liveSchema, this.projectors);
        await recordVersions(tx, this.projectors);
      });
      return 'created';
    }
    await this.rebuild();
    return 'rebuilt';
  }

  /**
   * Replays the whole log into a fresh schema and swaps it in. Phase one reads one consistent snapshot of the log in
   * position order (within a stream, position order is version order) while appends go on; phase two blocks appends
   * for a moment, applies exactly the events that snapshot could not see, and renames the schemas.
   */
  async rebuild(options: { batchSize?: number; onProgress?: (applied: number) => void } = {}): Promise<{ events: number }> {
    const batchSize = options.batchSize ?? 2000;
    const target = `${liveSchema}_rebuild`;
    const pipelined = this.db.kind === 'postgres';
    const first = await this.db.transaction(async (tx) => {
      await tx.query(`set transaction isolation level repeatable read`);
      const [snap] = await tx.query<{ snapshot: string }>(`select pg_current_snapshot()::text as snapshot`);
      await tx.query(`drop schema if exists ${target} cascade`);
      await createTables(tx, target, this.projectors);
      let applied = 0;
      let after = 0;
      for (;;) {
        const events = await this.unseal(tx, await readByPosition(tx, after, batchSize));
        if (events.length === 0) break;
        await runStatements(tx, this.statementsFor(events, target), pipelined);
        applied += events.length;
        after = events[events.length - 1]!.position;
        options.onProgress?.(applied);
      }
      return { snapshot: snap!.snapshot, applied, after };
    });
    const caughtUp = await this.db.transaction(async (tx) => {
      // Writers take ROW EXCLUSIVE on events; EXCLUSIVE waits for the ones in flight and holds new ones off.
      await tx.query(`lock table events in exclusive mode`);
      const rows = await tx.query(
        `select position, tx_id::text as tx_id, stream_id, version, type, data, metadata, recorded_at, prev_hash, hash
           from events where not pg_visible_in_snapshot(tx_id, $1::pg_snapshot) order by position`,
        [first.snapshot],
      );
      const late = await this.unseal(tx, rows.map((r) => toRecordedEvent(r as never)));
      await runStatements(tx, this.statementsFor(late, target), pipelined);
      await tx.query(`drop schema if exists ${liveSchema}_old cascade`);
      const [live] = await tx.query(`select 1 from information_schema.schemata where schema_name = $1`, [liveSchema]);
      if (live) await tx.query(`alter schema ${liveSchema} rename to ${liveSchema}_old`);
      await tx.query(`alter schema ${target} rename to ${liveSchema}`);
      await tx.query(`drop schema if exists ${liveSchema}_old cascade`);
      await recordVersions(tx, this.projectors);
      const last = late.length > 0 ? late[late.length - 1]!.position : first.after;
      await tx.query(
        `insert into projection_checkpoints (name, tx_id, position) values ('rebuild', pg_snapshot_xmin(pg_current_snapshot()), $1)
         on conflict (name) do update set tx_id = excluded.tx_id, position = excluded.position, updated_at = now()`,
        [Math.max(last, first.after)],
      );
      return late.length;
    });
    return { events: first.applied + caughtUp };
  }

  /** Builds a fresh copy of every projection from the log in `schema` without touching the live one (for checks). */
  async buildCopy(schema: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`set transaction isolation level repeatable read`);
      await tx.query(`drop schema if exists ${schema} cascade`);
      await createTables(tx, schema, this.projectors);
      let after = 0;
      for (;;) {
        const events = await this.unseal(tx, await readByPosition(tx, after, 2000));
        if (events.length === 0) break;
        await runStatements(tx, this.statementsFor(events, schema), this.db.kind === 'postgres');
        after = events[events.length - 1]!.position;
      }
    });
  }

  /** Rows that differ between two schemas' copies of every projection table (empty when they are equal). */
  async compare(schemaA: string, schemaB: string): Promise<Array<{ table: string; onlyInA: number; onlyInB: number }>> {
    const diffs: Array<{ table: string; onlyInA: number; onlyInB: number }> = [];
    for (const { name } of this.projectors.flatMap((p) => p.tables)) {
      const [row] = await this.db.query<{ a: number; b: number }>(
        `select (select count(*) from (select * from ${schemaA}.${name} except all select * from ${schemaB}.${name}) x)::int as a,
                (select count(*) from (select * from ${schemaB}.${name} except all select * from ${schemaA}.${name}) y)::int as b`,
      );
      if (row!.a !== 0 || row!.b !== 0) diffs.push({ table: name, onlyInA: row!.a, onlyInB: row!.b });
    }
    return diffs;
  }
}

async function createTables(tx: Queryable, schema: string, projectors: readonly Projector[]): Promise<void> {
  await tx.query(`create schema if not exists ${schema}`);
  for (const projector of projectors) {
    for (const statement of projector.ddl(schema).split(';').map((s) => s.trim()).filter(Boolean)) await tx.query(statement);
  }
}

async function recordVersions(tx: Queryable, projectors: readonly Projector[]): Promise<void> {
  for (const p of projectors) {
    await tx.query(
      `insert into projection_versions (name, version) values ($1, $2) on conflict (name) do update set version = excluded.version`,
      [p.name, p.version],
    );
  }
}

async function readByPosition(tx: Queryable, after: number, limit: number): Promise<RecordedEvent[]> {
  const rows = await tx.query(
    `select position, tx_id::text as tx_id, stream_id, version, type, data, metadata, recorded_at, prev_hash, hash
       from events where position > $1 order by position limit $2`,
    [after, limit],
  );
  return rows.map((r) => toRecordedEvent(r as never));
}

/**
 * On PostgreSQL the statements are sent without waiting for each answer (postgres.js pipelines queries issued
 * together on one connection, in order); PGlite runs in-process, one statement at a time.
 */
export async function runStatements(tx: Queryable, statements: readonly SqlStatement[], pipelined: boolean): Promise<void> {
  if (statements.length === 0) return;
  if (pipelined) {
    await Promise.all(statements.map((s) => tx.query(s.text, s.params)));
    return;
  }
  for (const s of statements) await tx.query(s.text, s.params);
}
