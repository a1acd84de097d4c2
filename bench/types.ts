// The contract between the harness (run.ts) and its scenarios (scenarios/*.ts). A scenario measures; the harness
// prepares a database, times it, computes the ratios and reports.
import type { Db } from '../src/db/index.js';

export interface Measurement {
  metric: string;
  value: number;
  unit: string;
  /** The individual runs behind `value` (a median), when there were several. */
  samples?: number[];
}

/**
 * A ratio between two metrics of the same scenario, measured side by side in one run, with the floor it must reach
 * (or, for a cost that must not grow, the ceiling it must stay under).
 */
export interface RatioSpec {
  name: string;
  numerator: string;
  denominator: string;
  floor: number;
  ceiling?: number;
}

export interface BenchContext {
  /** A fresh database created for this scenario and dropped after it. */
  databaseUrl: string;
  /** Opens a pool on the scenario's database (closed by the harness afterwards). */
  openDb(options?: { max?: number }): Db;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Measurement[]>;
  ratios: RatioSpec[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `count` tasks on `concurrency` workers; returns operations per second. */
export async function throughput(count: number, concurrency: number, task: (index: number, worker: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = next++; i < count; i = next++) await task(i, worker);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}
