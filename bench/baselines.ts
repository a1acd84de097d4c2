// The database baselines DB-bound scenarios divide by, measured beside them in the same run on the same database:
// - raw_insert_autocommit_per_s: one prepared single-row INSERT per operation, autocommit (one round trip), on
//   `concurrency` postgres.js connections. The honest ceiling for "one write per request": the figure every DB-bound
//   ratio is reported against (issue 20).
// - raw_inserts_per_s: the old baseline, `begin; insert; commit` through postgres.js (three round trips), kept beside
//   it for continuity with earlier runs. It is several times slower than the autocommit insert, so ratios against it
//   flatter the service.
import postgres from 'postgres';
import { throughput, type Measurement, type RatioSpec } from './types.js';

export interface RawInsertBaselines {
  /** `begin; insert; commit` (three round trips) per operation: the old baseline. */
  transactions(count: number): Promise<number>;
  /** One prepared single-row INSERT in autocommit per operation: the baseline every DB-bound ratio divides by. */
  autocommit(count: number): Promise<number>;
  end(): Promise<void>;
}

export const rawTransactionMetric = 'raw_inserts_per_s';
export const rawAutocommitMetric = 'raw_insert_autocommit_per_s';

const minimumTransactions = 3000;
const minimumAutocommits = 8000;
const insert = `insert into bench_raw (stream_id, data) values ($1, $2::text::jsonb)`;

export async function rawInsertBaselines(databaseUrl: string, concurrency: number): Promise<RawInsertBaselines> {
  const raw = postgres(databaseUrl, { max: concurrency, onnotice: () => {} });
  await raw.unsafe(`create table if not exists bench_raw (id bigint generated always as identity primary key, stream_id text not null, data jsonb not null)`);
  const row = (i: number): [string, string] => [`login-${i}`, JSON.stringify({ flowId: `f${i}`, at: new Date().toISOString() })];
  // A baseline runs for about a second at least, whatever the scenario's own count: 600 autocommit inserts last 70 ms
  // here, and a rate taken over 70 ms swings by a third from one round to the next.
  const baselines: RawInsertBaselines = {
    transactions: (count) => throughput(Math.max(count, minimumTransactions), concurrency, async (i) => {
      await raw.begin((tx) => tx.unsafe(insert, row(i)));
    }),
    autocommit: (count) => throughput(Math.max(count, minimumAutocommits), concurrency, async (i) => {
      await raw.unsafe(insert, row(i), { prepare: true });
    }),
    end: () => raw.end(),
  };
  // Warm both (connections, prepared statements) before anything is measured.
  await baselines.transactions(concurrency * 10);
  await baselines.autocommit(concurrency * 10);
  return baselines;
}

/** The two baselines as measurements (medians of the rounds). */
export function baselineMeasurements(transactions: number[], autocommit: number[], median: (v: readonly number[]) => number): Measurement[] {
  return [
    { metric: rawAutocommitMetric, value: median(autocommit), unit: 'inserts/s (autocommit, prepared)', samples: autocommit },
    { metric: rawTransactionMetric, value: median(transactions), unit: 'transactions/s (begin; insert; commit)', samples: transactions },
  ];
}

/**
 * A DB-bound figure's ratios: against the autocommit insert (with the floor), and against the old transaction baseline
 * for continuity (no floor: the figure to compare with earlier runs, not a gate).
 */
export function dbBoundRatios(label: string, numerator: string, floor: number): RatioSpec[] {
  return [
    { name: `${label} ÷ raw autocommit insert`, numerator, denominator: rawAutocommitMetric, floor, paired: true },
    { name: `${label} ÷ raw insert tx (old)`, numerator, denominator: rawTransactionMetric, floor: 0, paired: true },
  ];
}
