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

/**
 * Rows as objects of one shape per column list. postgres.js builds a row object by adding its columns one by one
 * (`row[name] = value`), and V8 turns an object built that way into a dictionary past 16 properties or so: the wide rows
 * of the caller's lookup (45 columns, a dozen rows per MFA step) were hash tables, and every read of them a dictionary
 * lookup. Read as values and built by a function compiled once per column list, a row is an object literal of a fixed
 * shape, however wide. Duplicate names keep the last column's value, as postgres.js's objects did.
 */
type RowBuilder = (values: readonly unknown[]) => Row;
const rowBuilders = new WeakMap<readonly { name: string }[], RowBuilder>();
const rowBuildersByNames = new Map<string, RowBuilder>();
const maxRowBuilders = 1000;

function rowBuilder(columns: readonly { name: string }[]): RowBuilder {
  let build = rowBuilders.get(columns);
  if (build) return build;
  const names = columns.map((column) => column.name);
  const signature = names.join('\u0000');
  build = rowBuildersByNames.get(signature);
  if (!build) {
    // The names come from PostgreSQL's row description; JSON.stringify makes each a plain string literal. A column
    // named "__proto__" gets a computed key, which makes it a column like any other instead of the row's prototype
    // (computed keys for all would build the literal property by property: twice as slow).
    const property = (name: string): string => (name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name));
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    build = new Function('v', `return { ${names.map((name, i) => `${property(name)}: v[${i}]`).join(', ')} };`) as RowBuilder;
    // Statements are the code's own, so the column lists are few; the bound only guards against a runaway.
    if (rowBuildersByNames.size >= maxRowBuilders) rowBuildersByNames.clear();
    rowBuildersByNames.set(signature, build);
  }
  // A prepared statement keeps its columns array from one execution to the next: found by identity next time.
  rowBuilders.set(columns, build);
  return build;
}

type ValuesResult = readonly unknown[] & { columns?: readonly { name: string }[] | null };

function asObjects(result: ValuesResult): Row[] {
  if (result.length === 0) return [];
  // Rows come with their columns; a result without them is several statements' results, each converted.
  if (!result.columns) return result.map((each) => asObjects(each as ValuesResult)) as unknown as Row[];
  const build = rowBuilder(result.columns);
  return result.map((values) => build(values as unknown[]));
}

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
      asObjects(await q.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: params.length > 0 }).values()) as T[];
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

export async function openDatabase(options: { databaseUrl?: string; poolSize?: number; dataDir: string }): Promise<Db> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, { max: options.poolSize }) : openPglite(`${options.dataDir}/pglite`);
}

/** PostgreSQL's SQLSTATE of an error thrown by either driver. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
