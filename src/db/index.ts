// One small interface over the two databases Tessera runs on, so every other module writes plain SQL once.
import fs from 'node:fs';
import postgres from 'postgres';
import { PGlite } from '@electric-sql/pglite';

export type Row = Record<string, unknown>;

export interface Queryable {
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * In a transaction on PostgreSQL: runs the statement and commits, in one round trip (the COMMIT goes out in the same
   * write). Nothing may run in the transaction after it; the transaction then sends no COMMIT of its own. Absent where
   * it cannot be done (PGlite): run the statement with `query` and let the transaction commit.
   */
  queryAndCommit?<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface TransactionOptions {
  /**
   * PostgreSQL: generic plans for the transaction's statements (plan_cache_mode = force_generic_plan, for this
   * transaction only). For a command's transaction, whose statements all find rows by key: a statement with an array
   * or a row count among its parameters (`= any($1)`, `generate_series(1, $1)`) is otherwise planned anew on every
   * call, because its custom plan always looks cheaper than the generic one (pg_stat_statements: the position draw
   * spent 0.055 ms planning against 0.034 ms running, per MFA step). Not for a query whose best plan depends on its
   * parameters' values (a time range, an optional filter): the analytics and the audit log keep PostgreSQL's choice.
   */
  genericPlans?: boolean;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `fn` on one connection, outside any transaction: statements it sends together (in the same tick) go out in
   * one write, each committed on its own. Reads that do not wait on each other cost one round trip instead of one each.
   */
  together<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Several statements at once, no parameters (migrations). */
  exec(sqlText: string): Promise<void>;
  /** LISTEN on a channel until the returned function is called (PostgreSQL: a dedicated connection; PGlite: in-process). */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /**
   * How busy the connection pool is (PostgreSQL only): `inFlight` counts the queries and transactions under way, each
   * of which holds (or waits for) a connection of the `max`; above `max`, the rest wait.
   */
  poolUsage?(): { max: number; inFlight: number };
}

// bigint columns (positions) fit in a double for any log we will ever hold; numbers are easier everywhere else.
const int8 = { to: 20, from: [20], serialize: (x: unknown) => String(x), parse: (x: string) => Number(x) };

export function openPostgres(url: string, options: { max?: number } = {}): Db {
  const max = options.max ?? 10;
  let inFlight = 0;
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await work();
    } finally {
      inFlight--;
    }
  };
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    types: { int8 },
    connection: { application_name: 'tessera' },
  });
  const run = (q: postgres.Sql | postgres.TransactionSql) =>
    async <T extends Row>(text: string, params: readonly unknown[] = []): Promise<T[]> =>
      (await q.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: params.length > 0 })) as unknown as T[];
  const runTop = run(sql);
  return {
    kind: 'postgres',
    query: (text, params) => counted(() => runTop(text, params)),
    async transaction(fn, options) {
      return counted(async () => {
        // A connection of our own, with BEGIN sent in the same write as the transaction's first statement instead of
        // a round trip ahead of it (sql.begin waits for BEGIN's answer). Queries on one connection run in order, so
        // nothing runs outside the transaction; if BEGIN failed, so does every statement after it. The plan mode, when
        // asked for, goes in the same simple query as BEGIN.
        const conn = await sql.reserve();
        try {
          const begin = conn.unsafe(options?.genericPlans ? 'begin; set local plan_cache_mode = force_generic_plan' : 'begin');
          begin.catch(() => {});
          let committed = false;
          const tx: Queryable = {
            query: run(conn),
            async queryAndCommit<T extends Row>(text: string, params: readonly unknown[] = []): Promise<T[]> {
              committed = true;
              const [rows, commit] = await Promise.all([run(conn)<T>(text, params), conn.unsafe('commit')]);
              // A transaction that had already failed answers COMMIT with ROLLBACK, without an error of its own.
              if ((commit as unknown as { command?: string }).command !== 'COMMIT') throw new Error('the transaction was rolled back');
              return rows;
            },
          };
          let value: Awaited<ReturnType<typeof fn>>;
          try {
            value = await fn(tx);
            await begin;
            if (!committed) await conn.unsafe('commit');
          } catch (error) {
            await conn.unsafe('rollback').catch(() => {});
            throw error;
          }
          return value;
        } finally {
          conn.release();
        }
      }) as never;
    },
    async together(fn) {
      return counted(async () => {
        const conn = await sql.reserve();
        try {
          return await fn({ query: run(conn) });
        } finally {
          conn.release();
        }
      });
    },
    poolUsage: () => ({ max, inFlight }),
    async exec(sqlText) {
      await sql.unsafe(sqlText);
    },
    async listen(channel, onNotify) {
      const { unlisten } = await sql.listen(channel, () => onNotify());
      return unlisten;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

/** Embedded PostgreSQL in WASM: a directory on disk, or memory when dataDir is undefined (tests). */
export async function openPglite(dataDir: string | undefined): Promise<Db> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir, { parsers: { 20: (v: string) => Number(v) } });
  const run = (q: Pick<PGlite, 'query'>) =>
    async <T extends Row>(text: string, params: readonly unknown[] = []): Promise<T[]> =>
      (await q.query<T>(text, params as unknown[])).rows;
  return {
    kind: 'pglite',
    query: run(pg),
    async transaction(fn) {
      return pg.transaction((tx) => fn({ query: run(tx) }));
    },
    // One connection already: statements run as they come.
    together: (fn) => fn({ query: run(pg) }),
    async exec(sqlText) {
      await pg.exec(sqlText);
    },
    async listen(channel, onNotify) {
      const unlisten = await pg.listen(channel, () => onNotify());
      return unlisten;
    },
    async close() {
      await pg.close();
    },
  };
}

export async function openDatabase(options: { databaseUrl?: string; dataDir: string }): Promise<Db> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(`${options.dataDir}/pglite`);
}

/** PostgreSQL's SQLSTATE of an error thrown by either driver. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
