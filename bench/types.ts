// The contract between the harness (run.ts) and its scenarios (scenarios/*.ts). A scenario measures; the harness
// prepares a database, times it, computes the ratios and reports.
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
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
  /**
   * The two metrics' samples are rounds measured side by side (sample i of each in round i): the ratio is then the
   * median of the rounds' own ratios. This machine's speed drifts by a third within minutes (argon2 verifies moved
   * from 118/s to 184/s between rounds of one run), and a ratio of the two medians can set one side's fast round
   * against the other's slow one; each round's ratio compares two measurements taken seconds apart. The ratio of the
   * medians is printed and recorded beside it.
   */
  paired?: boolean;
}

export interface BenchContext {
  /** A fresh database created for this scenario and dropped after it. */
  databaseUrl: string;
  /** Opens a pool on the scenario's database (closed by the harness afterwards). */
  openDb(options?: { max?: number }): Db;
  log(message: string): void;
  /**
   * ANALYZE on the scenario's database: a timed section that follows a setup should run on tables with statistics, as a
   * production database's are (on a fresh database's never-analyzed tables the planner may pick sequential scans).
   */
  analyze(): Promise<void>;
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Measurement[]>;
  ratios: RatioSpec[];
}

export interface RatioResult extends RatioSpec {
  value: number;
  pass: boolean;
  /** The numerator's median ÷ the denominator's (the value itself unless paired). */
  ofMedians: number;
  /** A paired ratio's rounds, each round's own ratio. */
  rounds?: number[];
}

/** A ratio's value from its scenario's metrics, and whether it meets its floor (or ceiling). */
export function ratioResult(spec: RatioSpec, metrics: readonly Measurement[]): RatioResult {
  const num = metrics.find((m) => m.metric === spec.numerator);
  const den = metrics.find((m) => m.metric === spec.denominator);
  if (!num || !den) throw new Error(`ratio ${spec.name}: metric ${!num ? spec.numerator : spec.denominator} was not measured`);
  const ofMedians = num.value / den.value;
  let rounds: number[] | undefined;
  if (spec.paired) {
    if (!num.samples || !den.samples || num.samples.length !== den.samples.length || num.samples.length < 2) {
      throw new Error(`ratio ${spec.name}: paired, but its metrics do not have the same rounds`);
    }
    rounds = num.samples.map((n, i) => n / den.samples![i]!);
  }
  const value = rounds ? median(rounds) : ofMedians;
  return { ...spec, value, ofMedians, rounds, pass: value >= spec.floor && (spec.ceiling === undefined || value <= spec.ceiling) };
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

/** CPU seconds used so far by the local PostgreSQL server's processes (Linux /proc; 0 elsewhere). */
function postgresCpuSeconds(): number {
  let ticks = 0;
  try {
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch { /* gone meanwhile */ }
    }
  } catch { /* no /proc */ }
  return ticks / 100;
}

/**
 * This process's main thread, the one running JavaScript, in seconds so far (Linux /proc/<tid>/schedstat, in
 * nanoseconds; zeros elsewhere): on a core, and runnable but waiting for one.
 */
function mainThreadSeconds(): { running: number; waiting: number } {
  try {
    const [running, waiting] = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { running: running! / 1e9, waiting: waiting! / 1e9 };
  } catch {
    return { running: 0, waiting: 0 };
  }
}

/** The machine's CPU time so far, all cores, and of it the idle time (Linux /proc/stat, in ticks; zeros elsewhere). */
function machineTicks(): { total: number; idle: number } {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').slice(0, 200).split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: fields.reduce((a, b) => a + b, 0), idle: fields[3]! + fields[4]! };
  } catch {
    return { total: 0, idle: 0 };
  }
}

/**
 * BENCH_CPU=1: each timed section prints the CPU it cost per operation, this process (the service and the bench's own
 * clients; its main thread apart from the others: the hash's, the garbage collector's, the load generator's) and the
 * local PostgreSQL server apart: where a ratio's time goes. Beside them, how long the main thread waited for a core
 * while it had work, and how much of the machine sat idle: a service bound by its one thread, on a machine it shares
 * with its database, can wait for a core that another moment leaves idle.
 */
function cpuAccounting(count: number): (() => void) | null {
  if (process.env.BENCH_CPU !== '1') return null;
  const ours = process.cpuUsage();
  const theirs = postgresCpuSeconds();
  const main = mainThreadSeconds();
  const machine = machineTicks();
  const wall = process.hrtime.bigint();
  const loop = performance.eventLoopUtilization();
  return () => {
    const used = process.cpuUsage(ours);
    const seconds = Number(process.hrtime.bigint() - wall) / 1e9;
    const mainNow = mainThreadSeconds();
    const machineNow = machineTicks();
    const idle = (machineNow.idle - machine.idle) / Math.max(1, machineNow.total - machine.total);
    const perOp = (s: number): string => `${((s / count) * 1000).toFixed(2)} ms`;
    console.log(`    cpu per operation (${count} in ${seconds.toFixed(1)} s): this process (all its threads) ${perOp((used.user + used.system) / 1e6)} (main thread ${perOp(mainNow.running - main.running)}, and ${perOp(mainNow.waiting - main.waiting)} waiting for a core), postgres ${perOp(postgresCpuSeconds() - theirs)}, main thread busy ${(performance.eventLoopUtilization(loop).utilization * 100).toFixed(0)}%, machine idle ${(idle * 100).toFixed(0)}%`);
  };
}

/**
 * A timed section of `count` operations: with BENCH_CPU_PROFILE and BENCH_CPU, profiled and accounted. With
 * BENCH_PERF_TIMES=1 it prints its start and end on the monotonic clock, the one `perf record -k mono` stamps samples
 * with: `perf report --time <start>,<end>` then shows the whole machine (PostgreSQL, the kernel, V8's own C++) in that
 * section alone.
 */
export async function timed<T>(count: number, run: () => Promise<T>): Promise<T> {
  const stopProfile = await profiling();
  const stopCpu = cpuAccounting(count);
  const started = process.hrtime.bigint();
  const result = await run();
  if (process.env.BENCH_PERF_TIMES === '1') {
    const seconds = (ns: bigint): string => (Number(ns) / 1e9).toFixed(6);
    console.log(`    perf --time ${seconds(started)},${seconds(process.hrtime.bigint())} (${count} operations)`);
  }
  stopCpu?.();
  await stopProfile?.();
  return result;
}

/** Runs `count` tasks on `concurrency` workers, each taking the next index; returns operations per second. */
export async function concurrently(count: number, concurrency: number, task: (index: number, worker: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = next++; i < count; i = next++) await task(i, worker);
  }));
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** `concurrently` as a timed section (profiled and accounted with BENCH_CPU_PROFILE and BENCH_CPU). */
export function throughput(count: number, concurrency: number, task: (index: number, worker: number) => Promise<void>): Promise<number> {
  return timed(count, () => concurrently(count, concurrency, task));
}
