// A projector turns each event it handles into SQL statements against its own tables. It is pure (event → SQL), so
// the same code runs inline in an append's transaction and in a rebuild, where statements are pipelined in batches.
import type { RecordedEvent } from '../eventstore/index.js';

export interface SqlStatement {
  text: string;
  params: unknown[];
}

export interface Projector {
  /** Names its tables; also the key of its version record. A projector writes only its own tables, so the statements
   * of different projectors commute and the runner may group them by projector. */
  readonly name: string;
  /** Bump when the tables or the mapping change: start-up rebuilds projections whose recorded version differs. */
  readonly version: number;
  readonly handles: readonly string[];
  /** Tables it owns, in the projection schema, with the columns that order them for comparison. */
  readonly tables: ReadonlyArray<{ name: string; orderBy: string }>;
  /** DDL creating its tables in `schema` (the live one, or a fresh one during a rebuild). */
  ddl(schema: string): string;
  project(event: RecordedEvent, schema: string): SqlStatement[];
  /**
   * Optional: the same rows as `project` applied to `events` in order, in fewer statements. Rebuilds replay thousands
   * of events a batch, and one statement per event costs more than the work it does.
   */
  projectBatch?(events: readonly RecordedEvent[], schema: string): SqlStatement[];
}

export const liveSchema = 'proj';

export function sql(text: string, ...params: unknown[]): SqlStatement {
  return { text, params };
}
