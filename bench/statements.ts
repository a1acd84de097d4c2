// Counts the SQL statements a database handle runs, at the Queryable level (no pg_stat_statements): every query on the
// pool and in every transaction, plus BEGIN and COMMIT for each transaction. Measured one request at a time, the
// difference of the count around a request is exactly what that request ran.
import type { Db, Queryable } from '../src/db/index.js';

export interface CountingDb extends Db {
  /** Statements run so far (BEGIN and COMMIT included). */
  readonly statements: number;
  /** Of those, how many were BEGIN/COMMIT pairs (transactions). */
  readonly transactions: number;
  /** The statement texts since the last reset, for a look at what a request runs. */
  log: string[] | null;
}

export function countingDb(db: Db): CountingDb {
  let statements = 0;
  let transactions = 0;
  const counting: CountingDb = {
    get statements() { return statements; },
    get transactions() { return transactions; },
    log: null,
    kind: db.kind,
    query(text, params) {
      statements++;
      counting.log?.push(text.replace(/\s+/g, ' ').slice(0, Number(process.env.BENCH_STATEMENTS_WIDTH ?? 160)));
      return db.query(text, params);
    },
    async transaction(fn) {
      statements += 2;
      transactions++;
      counting.log?.push('begin');
      try {
        return await db.transaction((tx: Queryable) => fn({
          query(text, params) {
            statements++;
            counting.log?.push(`  ${text.replace(/\s+/g, ' ').slice(0, Number(process.env.BENCH_STATEMENTS_WIDTH ?? 160))}`);
            return tx.query(text, params);
          },
          // The statement is counted here, its COMMIT with the transaction's BEGIN (above).
          ...(tx.queryAndCommit ? {
            queryAndCommit(text: string, params?: readonly unknown[]) {
              statements++;
              counting.log?.push(`  ${text.replace(/\s+/g, ' ').slice(0, Number(process.env.BENCH_STATEMENTS_WIDTH ?? 160))} + commit`);
              return tx.queryAndCommit!(text, params);
            },
          } : {}),
        }));
      } finally {
        counting.log?.push('commit');
      }
    },
    exec: (sqlText) => db.exec(sqlText),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: () => db.close(),
    poolUsage: db.poolUsage ? () => db.poolUsage!() : undefined,
  };
  return counting;
}
