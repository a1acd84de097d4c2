// A projector turns each event it handles into SQL statements against its own tables. It is pure (event → SQL), so
// the same code runs inline in an append's transaction and in a rebuild, where statements are pipelined in batches.
import type { DomainEvent } from '../domain/shared/decider.js';
import type { RecordedEvent } from '../eventstore/index.js';

export interface SqlStatement {
  text: string;
  params: unknown[];
}

/** One recorded event per member of the union E, so a switch on `event.type` gives `event.data` its type. */
export type Recorded<E extends DomainEvent> = E extends DomainEvent<infer T, infer D> ? RecordedEvent<T, D> : never;

/**
 * The members of the domain union E that `types` names. A projector declares its event list once, as a constant, and
 * its event type is derived from that list, so the two cannot drift apart.
 */
export type Handled<E extends DomainEvent, Types extends readonly string[]> = Extract<E, { type: Types[number] }>;

/** Narrows an event to the members of its union whose type is one of `types` (where a switch would repeat a list). */
export function isOneOf<E extends { type: string }, T extends E['type']>(types: readonly T[], event: E): event is Extract<E, { type: T }> {
  return (types as readonly string[]).includes(event.type);
}

/**
 * E is the union of the domain events it handles. The runner holds projectors of every E side by side and passes each
 * only the events whose type is in its `handles`: that routing is what makes `project`'s narrower parameter sound.
 */
export interface Projector<E extends DomainEvent = DomainEvent> {
  /** Names its tables; also the key of its version record. A projector writes only its own tables, so the statements
   * of different projectors commute and the runner may group them by projector. */
  readonly name: string;
  /** Bump when the tables or the mapping change: start-up rebuilds projections whose recorded version differs. */
  readonly version: number;
  readonly handles: readonly E['type'][];
  /** Tables it owns, in the projection schema, with the columns that order them for comparison. */
  readonly tables: ReadonlyArray<{ name: string; orderBy: string }>;
  /** DDL creating its tables in `schema` (the live one, or a fresh one during a rebuild). */
  ddl(schema: string): string;
  project(event: Recorded<E>, schema: string): SqlStatement[];
  /**
   * Optional: the same rows as `project` applied to `events` in order, in fewer statements. Rebuilds replay thousands
   * of events a batch, and one statement per event costs more than the work it does.
   */
  projectBatch?(events: readonly Recorded<E>[], schema: string): SqlStatement[];
}

export const liveSchema = 'proj';

/**
 * A read made ahead in a lookup's own statement, for the command that lookup is the first step of: `sql` a query
 * joined laterally (EventStore.readAheadSql: its rows multiply the lookup's, its columns prefixed `ahead_`) that may
 * use the columns the lookup names, and its own `params`, numbered after the lookup's.
 */
export interface ReadAheadJoin {
  sql: string;
  params: readonly unknown[];
}

export function sql(text: string, ...params: unknown[]): SqlStatement {
  return { text, params };
}
