// Counts the SQL statements a database handle runs, at the Queryable level (no pg_stat_statements): every query on the
// pool and in every transaction, plus BEGIN and COMMIT for each transaction. Measured one request at a time, the
// difference of the count around a request is exactly what that request ran.
import type { Db, Queryable } from '../src/db/index.js';

export interface CountingDb extends Db {
  /** Statements run so far (BEGIN and COMMIT included). */
  readonly statements: number;
  /** Of those, how many were BEGIN/COMMIT pairs (transactions). */
  readonly transactions: number;
  /**
   * Round trips: a statement sent while another of its transaction is still unanswered goes in the same pipeline and
   * waits for no answer of its own (BEGIN goes with the first statement, COMMIT with the last when it can: see
   * openPostgres). A statement outside a transaction is one round trip.
   */
  readonly roundTrips: number;
  /** The statement texts since the last reset, for a look at what a request runs. */
  log: string[] | null;
}

export function countingDb(db: Db): CountingDb {
  let statements = 0;
  let transactions = 0;
  let roundTrips = 0;
  const width = (): number => Number(process.env.BENCH_STATEMENTS_WIDTH ?? 160);
  /** Statements on one connection: one sent while another is still unanswered rides in the same pipeline. */
  const pipeline = () => {
    let unanswered = 0;
    let first = true;
    return {
      get first() { return first; },
      sent<T>(answer: Promise<T>): Promise<T> {
        if (first || unanswered === 0) roundTrips++;
        first = false;
        unanswered++;
        return answer.finally(() => { unanswered--; });
      },
    };
  };
  const counting: CountingDb = {
    get statements() { return statements; },
    get transactions() { return transactions; },
    get roundTrips() { return roundTrips; },
    log: null,
    kind: db.kind,
    query(text, params) {
      statements++;
      roundTrips++;
      counting.log?.push(text.replace(/\s+/g, ' ').slice(0, width()));
      return db.query(text, params);
    },
    async transaction(fn, options) {
      statements += 2;
      transactions++;
      counting.log?.push('begin');
      // BEGIN goes in the first statement's pipeline; COMMIT in the last one's when it can (queryAndCommit).
      const pipelined = pipeline();
      let committed = false;
      try {
        return await db.transaction((tx: Queryable) => fn({
          query(text, params) {
            statements++;
            counting.log?.push(`  ${text.replace(/\s+/g, ' ').slice(0, width())}`);
            return pipelined.sent(tx.query(text, params));
          },
          // The statement is counted here, its COMMIT with the transaction's BEGIN (above).
          ...(tx.queryAndCommit ? {
            queryAndCommit(text: string, params?: readonly unknown[]) {
              statements++;
              counting.log?.push(`  ${text.replace(/\s+/g, ' ').slice(0, width())} + commit`);
              committed = true;
              return pipelined.sent(tx.queryAndCommit!(text, params));
            },
          } : {}),
        }), options);
      } finally {
        counting.log?.push('commit');
        // BEGIN alone (no statement), or a COMMIT of its own.
        if (pipelined.first) roundTrips++;
        if (!committed) roundTrips++;
      }
    },
    together(fn) {
      const pipelined = pipeline();
      return db.together((q) => fn({
        query(text, params) {
          statements++;
          counting.log?.push(`${text.replace(/\s+/g, ' ').slice(0, width())} (together)`);
          return pipelined.sent(q.query(text, params));
        },
      }));
    },
    exec: (sqlText) => db.exec(sqlText),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: () => db.close(),
    poolUsage: db.poolUsage ? () => db.poolUsage!() : undefined,
  };
  return counting;
}
