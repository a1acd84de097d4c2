// npm run bench [-- <scenario-name> ...]: runs every scenario in bench/scenarios (or the named ones), each on its own
// fresh PostgreSQL database and, when there are several, in a process of its own (BENCH_ONE_PROCESS=1: all in this
// one), prints a table and writes bench/results.json with every figure and every ratio.
// Database: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { openPostgres, type Db } from '../src/db/index.js';
import { ratioResult, type Measurement, type RatioResult, type Scenario } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const adminUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

interface ScenarioResult { name: string; description: string; seconds: number; metrics: Measurement[]; ratios: RatioResult[]; error?: string }

async function loadScenarios(only: readonly string[]): Promise<Scenario[]> {
  const dir = path.join(here, 'scenarios');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { default?: Scenario };
    if (!mod.default) throw new Error(`bench/scenarios/${file} must default-export a Scenario`);
    scenarios.push(mod.default);
  }
  const unknown = only.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  return only.length > 0 ? scenarios.filter((s) => only.includes(s.name)) : scenarios;
}

async function withScenarioDatabase<T>(fn: (url: string, pools: Db[]) => Promise<T>): Promise<T> {
  const name = `tessera_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pools: Db[] = [];
  try {
    return await fn(url.toString(), pools);
  } finally {
    await Promise.all(pools.map((p) => p.close().catch(() => {})));
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

const fmt = (n: number): string => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3));

async function main(): Promise<void> {
  // The bench runs as production (package.json: NODE_ENV=production), and a production service refuses to start without
  // its server keys and its audit signing key: throwaway ones for this run, unless the caller gave them.
  process.env.TESSERA_SECRET_KEYS ||= `bench:${randomBytes(32).toString('base64')}`;
  process.env.AUDIT_SIGNING_KEY ||= generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const scenarios = await loadScenarios(process.argv.slice(2).filter((a) => a !== '--'));
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const [versionRow] = await admin.unsafe<Array<{ server_version: string }>>(`show server_version`);
  const serverVersion = versionRow?.server_version ?? 'unknown';
  await admin.end();
  const results: ScenarioResult[] = [];
  // A scenario of its own: this process measures it and hands its result to the parent that spawned it (below).
  const resultFile = process.env.BENCH_RESULT_FILE;
  // Several scenarios: each in a process of its own, after a CHECKPOINT. Run in one process, a scenario measured the
  // code and the heap the ones before it left (the V8 code of shared paths shaped by every other scenario's calls, the
  // heap of a million-event seeding), and PostgreSQL still writing out the pages of the big logs seeded before it:
  // the MFA step ran 1.3–1.7 ms of main thread per request after the others against 1.0–1.1 ms alone.
  if (!resultFile && scenarios.length > 1 && process.env.BENCH_ONE_PROCESS !== '1') {
    for (const scenario of scenarios) results.push(await isolated(scenario));
    return report(results, serverVersion);
  }
  for (const scenario of scenarios) {
    const started = Date.now();
    console.log(`\n▶ ${scenario.name}: ${scenario.description}`);
    try {
      const metrics = await withScenarioDatabase((databaseUrl, pools) =>
        scenario.run({
          databaseUrl,
          openDb: (options) => {
            const db = openPostgres(databaseUrl, { max: options?.max ?? 8 });
            pools.push(db);
            return db;
          },
          log: (message) => console.log(`  ${message}`),
          async analyze() {
            const db = openPostgres(databaseUrl, { max: 1 });
            try {
              await db.query('analyze');
            } finally {
              await db.close();
            }
          },
        }));
      results.push({ name: scenario.name, description: scenario.description, seconds: (Date.now() - started) / 1000, metrics, ratios: scenario.ratios.map((spec) => ratioResult(spec, metrics)) });
    } catch (error) {
      console.error(error);
      results.push({ name: scenario.name, description: scenario.description, seconds: (Date.now() - started) / 1000, metrics: [], ratios: [], error: String(error) });
    }
  }
  if (resultFile) {
    fs.writeFileSync(resultFile, JSON.stringify(results[0]));
    return;
  }
  report(results, serverVersion);
}

/** Runs one scenario in a child process (this script, the same Node flags and loader), after a CHECKPOINT. */
async function isolated(scenario: Scenario): Promise<ScenarioResult> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  // Needs a superuser or pg_checkpoint; without it, the scenario runs all the same.
  await admin.unsafe('checkpoint').catch(() => {});
  await admin.end();
  const resultFile = path.join(os.tmpdir(), `tessera-bench-${process.pid}-${scenario.name}.json`);
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), scenario.name], {
      env: { ...process.env, BENCH_RESULT_FILE: resultFile }, stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  try {
    return JSON.parse(fs.readFileSync(resultFile, 'utf8')) as ScenarioResult;
  } catch {
    return { name: scenario.name, description: scenario.description, seconds: (Date.now() - started) / 1000, metrics: [], ratios: [], error: `its process exited with ${code} and no result` };
  } finally {
    fs.rmSync(resultFile, { force: true });
  }
}

function report(results: ScenarioResult[], serverVersion: string): void {
  console.log('\nscenario        metric                          value  unit');
  for (const r of results) {
    for (const m of r.metrics) console.log(`${r.name.padEnd(15)} ${m.metric.padEnd(26)} ${fmt(m.value).padStart(12)}  ${m.unit}`);
    if (r.error) console.log(`${r.name.padEnd(15)} ERROR ${r.error}`);
  }
  // A paired ratio is the median of its rounds' ratios; the ratio of the two medians and the rounds follow it.
  console.log('\nscenario        ratio                             value  floor  result  (ratio of medians; rounds)');
  for (const r of results) {
    for (const q of r.ratios) {
      const bound = q.ceiling === undefined ? q.floor.toFixed(2).padStart(5) : `≤${q.ceiling.toFixed(2)}`;
      const rounds = q.rounds ? `  (${q.ofMedians.toFixed(3)}; ${q.rounds.map((x) => x.toFixed(3)).join(' ')})` : '';
      console.log(`${r.name.padEnd(15)} ${q.name.padEnd(30)} ${q.value.toFixed(3).padStart(8)}  ${bound}  ${q.pass ? 'pass' : 'FAIL'}${rounds}`);
    }
  }

  const report = {
    at: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, postgres: serverVersion },
    scenarios: results,
  };
  fs.writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote bench/results.json`);
  if (results.some((r) => r.error || r.ratios.some((q) => !q.pass))) process.exitCode = 1;
}

await main();
