// The contract between the harness (run.ts) and its scenarios (scenarios/*.ts). A scenario measures; the harness
// prepares a database, times it, computes the ratios and reports.
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import path from 'node:path';
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

let profiled = 0;

/**
 * BENCH_CPU_PROFILE=<dir>: each timed section writes a V8 CPU profile of this process (the service and the bench's
 * own clients) to <dir>/section-N.cpuprofile, for a look at where the time goes (open it in Chrome's DevTools).
 */
async function profiling(): Promise<(() => Promise<void>) | null> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return null;
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `section-${++profiled}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}

/** Runs `count` tasks on `concurrency` workers; returns operations per second. */
export async function throughput(count: number, concurrency: number, task: (index: number, worker: number) => Promise<void>): Promise<number> {
  let next = 0;
  const stopProfile = await profiling();
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = next++; i < count; i = next++) await task(i, worker);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await stopProfile?.();
  return count / seconds;
}
