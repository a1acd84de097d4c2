// Issue 19's figures:
// - p95 of a 30-day daily series (the whole sessionAnalytics series: every counter, distinct sessions and users,
//   adoption) with 1,000,000 events in the log ÷ with 10,000 (a ceiling of 1.5: the buckets are projections, so the
//   cost must not grow with the log). Both logs span the same 30 days, each in a database of its own, so that the two
//   are queried alternately in rounds and the ratio is taken round by round (measured one after the other, minutes
//   apart, the two p95s of one run came out 0.62–1.5 of each other on a machine whose speed drifts). The logs are
//   seeded by COPY (bench/seed.ts, the audit scenario's path) and the analysis tables are built by the asynchronous
//   projector itself (its catch-up rate is reported too);
// - the projector's lag (events and seconds behind) sampled while password logins run over HTTP at the login
//   benchmark's concurrency, with the projector running as `tessera serve` runs it.
import { generateKeyPairSync } from 'node:crypto';
import postgres from 'postgres';
import { createApp, type App } from '../../src/app.js';
import { analyticsLag, analyticsSeries, catchUpAnalytics, startAnalyticsProjector } from '../../src/application/analytics.js';
import { createAccount } from '../../src/application/signup.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/graphql/server.js';
import type { NewEvent } from '../../src/eventstore/index.js';
import { openPostgres } from '../../src/db/index.js';
import { createLogSeeder } from '../seed.js';
import { signedIn, startLoadGenerator } from '../load.js';
import { median, type Measurement, type Scenario } from '../types.js';

const smallLog = 10_000;
const largeLog = Number(process.env.BENCH_ANALYTICS_EVENTS ?? 1_000_000);
// A p95 of 200 queries (the tenth slowest) moved with a handful of millisecond stalls of the machine: rounds of one
// run spread 0.94–2.18 of each other on logs the series reads the same 30 buckets of. 1,000 a round (about a second).
const queries = Number(process.env.BENCH_ANALYTICS_QUERIES ?? 5000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const loadLogins = Number(process.env.BENCH_LOGINS ?? 400);
const base = Date.parse('2026-01-01T00:00:00Z');
const minutesIn30Days = 30 * 24 * 60;
const methods = [['password'], ['password', 'totp'], ['password', 'webauthn'], ['passkey']];

/** Event i: five per login k (started, completed, its session, that session's activity, another login's wrong password). */
function eventAt(i: number): { streamId: string; event: NewEvent; recordedAt: Date; ip: string } {
  const k = Math.floor(i / 5);
  const userId = `u${k % 5000}`;
  const at = new Date(base + ((k * 104_729) % minutesIn30Days) * 60_000);
  const iso = at.toISOString();
  const ip = `10.${k % 250}.${(k >> 8) % 200}.${k % 7}`;
  switch (i % 5) {
    case 0: return { streamId: `login-b${k}`, recordedAt: at, ip, event: { type: 'LoginStarted', data: { flowId: `b${k}`, userId, method: 'password', at: iso } } };
    case 1: return { streamId: `login-b${k}`, recordedAt: at, ip, event: { type: 'LoginCompleted', data: { flowId: `b${k}`, userId, sessionId: `s${k}`, aal: 1, at: iso } } };
    case 2: return {
      streamId: `session-s${k}`, recordedAt: at, ip,
      event: { type: 'SessionStarted', data: { sessionId: `s${k}`, userId, tokenHash: `t${k}`, aal: 1, methods: methods[k % 4]!.map((method) => ({ method, at: iso })), ip, userAgent: 'bench', deviceId: null, enrollOnly: false, at: iso } },
    };
    case 3: return { streamId: `session-s${k}`, recordedAt: at, ip, event: { type: 'SessionActivityRecorded', data: { sessionId: `s${k}`, userId, ip, at: new Date(at.getTime() + 3_600_000).toISOString() } } };
    default: return { streamId: `login-f${k}`, recordedAt: at, ip, event: { type: 'PasswordRejected', data: { flowId: `f${k}`, userId: `u${(k * 31) % 5000}`, at: iso } } };
  }
}

const seriesRange = { from: new Date(base), to: new Date(base + 30 * 86_400_000), bucket: 'day' as const, timeZone: 'UTC' };

/** The p95 of `count` 30-day daily series, one at a time. */
async function seriesP95(app: App, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const points = await analyticsSeries(app.db, seriesRange);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (points.length !== 30) throw new Error(`expected 30 days, got ${points.length}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length * 0.95)]!;
}

async function catchUp(app: App, raw: postgres.Sql, log: (m: string) => void, label: string): Promise<number> {
  const started = Date.now();
  let applied = 0;
  for (;;) {
    applied += await catchUpAnalytics(app);
    if ((await analyticsLag(app.db)).events === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (Date.now() - started) / 1000;
  // The tables as a running service's would be: vacuumed and analyzed, their pages written out (a checkpoint still
  // writing a million events' pages made single queries stall for milliseconds).
  await raw.unsafe(`vacuum analyze`);
  await raw.unsafe(`checkpoint`);
  log(`${label}: the projector applied ${applied.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s (${Math.round(applied / seconds)} events/s)`);
  return applied / seconds;
}

const scenario: Scenario = {
  name: 'analytics',
  description: `30-day daily series p95 at ${largeLog.toLocaleString('en-US')} vs ${smallLog.toLocaleString('en-US')} events (ceiling 1.5), projector catch-up rate, projector lag under password-login load`,
  ratios: [{ name: 'series: p95 1M ÷ p95 10k', numerator: 'series_p95_ms_large', denominator: 'series_p95_ms_small', floor: 0, ceiling: 1.5, paired: true }],
  async run(ctx) {
    // The small log's own database, beside the scenario's (which gets the large one).
    const smallDatabase = `${new URL(ctx.databaseUrl).pathname.slice(1)}_small`;
    const smallUrl = Object.assign(new URL(ctx.databaseUrl), { pathname: `/${smallDatabase}` }).toString();
    const env = { NODE_ENV: 'production', LOG_LEVEL: 'silent', PORT: '0', TESSERA_SECRET_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}`, ANALYTICS_POLL_MS: '200',
      AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const config = loadConfig(env);
    const app = await createApp({ config, db: ctx.openDb({ max: config.databasePoolSize }), env, reactors: false });
    const raw = postgres(ctx.databaseUrl, { max: 2, onnotice: () => {} });
    await raw.unsafe(`create database ${smallDatabase}`);
    const smallDb = openPostgres(smallUrl, { max: config.databasePoolSize });
    const smallRaw = postgres(smallUrl, { max: 2, onnotice: () => {} });
    let smallApp: App | undefined;
    const metrics: Measurement[] = [];
    try {
      smallApp = await createApp({ config, db: smallDb, env, reactors: false });
      const seederOf = (sql: postgres.Sql) => createLogSeeder(sql, (i) => {
        const { streamId, event, recordedAt, ip } = eventAt(i);
        return { streamId, event, recordedAt, metadata: { actor: 'bench', ip, userAgent: 'bench' } };
      });
      await seederOf(smallRaw).seedTo(smallLog);
      const smallRate = await catchUp(smallApp, smallRaw, ctx.log, `${smallLog} events`);
      const seedStarted = Date.now();
      await seederOf(raw).seedTo(largeLog);
      ctx.log(`log seeded by COPY to ${largeLog.toLocaleString('en-US')} events in ${Date.now() - seedStarted} ms`);
      const largeRate = await catchUp(app, raw, ctx.log, `${largeLog} events`);
      // Warm both with a round's worth each (after 200 queries the large log's first round still ran at 1.6–2.4 of the
      // small one's, the later ones at 0.9–1.1), then rounds: each round queries the two logs one after the other (the
      // order alternating), and the ratio is the median of the rounds' own.
      const perRound = Math.ceil(queries / rounds);
      for (const each of [smallApp, app]) await seriesP95(each, perRound);
      const smalls: number[] = [];
      const larges: number[] = [];
      for (let round = 1; round <= rounds; round++) {
        if (round % 2) {
          smalls.push(await seriesP95(smallApp, perRound));
          larges.push(await seriesP95(app, perRound));
        } else {
          larges.push(await seriesP95(app, perRound));
          smalls.push(await seriesP95(smallApp, perRound));
        }
        ctx.log(`round ${round}: 30-day daily series p95 at ${smallLog.toLocaleString('en-US')} events ${smalls.at(-1)!.toFixed(3)} ms, at ${largeLog.toLocaleString('en-US')} ${larges.at(-1)!.toFixed(3)} ms (${(larges.at(-1)! / smalls.at(-1)!).toFixed(3)})`);
      }
      metrics.push(
        { metric: 'series_p95_ms_small', value: median(smalls), unit: 'ms', samples: smalls },
        { metric: 'series_p95_ms_large', value: median(larges), unit: 'ms', samples: larges },
        { metric: 'projector_catch_up_events_per_s_small', value: smallRate, unit: 'events/s' },
        { metric: 'projector_catch_up_events_per_s_large', value: largeRate, unit: 'events/s' },
      );

      // Lag under load: password logins over HTTP (argon2id at the default cost, c=8 as in the login scenario) with the
      // projector running in the background, sampled every 100 ms.
      const server = await startServer(app, { port: 0, host: '127.0.0.1' });
      const projector = startAnalyticsProjector(app);
      const load = startLoadGenerator();
      try {
        const password = 'correct horse battery staple';
        const emails = Array.from({ length: 16 }, (_, i) => `lag-${i}@example.com`);
        for (const email of emails) await createAccount(app, { email, password }, { clientAddress: 'bench', userAgent: 'bench', requestId: 'bench', actor: 'bench' });
        const samples: Array<{ events: number; seconds: number }> = [];
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const lag = await analyticsLag(app.db);
            samples.push({ events: lag.events, seconds: lag.seconds });
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        })();
        // The logins come from the load generator's thread, as another program's would (bench/load.ts).
        const logins = Array.from({ length: loadLogins }, (_, i) => ({
          headers: { 'content-type': 'application/json', 'x-tessera-client': 'app' },
          body: JSON.stringify({ query: `mutation($input: CredentialsInput!) { login(input: $input) { __typename } }`, variables: { input: { email: emails[i % emails.length], password } } }),
        }));
        const { rate } = await load.posts(`${server.url}/graphql`, logins, 8, signedIn);
        sampling = false;
        await sampler;
        const sorted = (f: (s: { events: number; seconds: number }) => number) => samples.map(f).sort((a, b) => a - b);
        const p95 = (values: number[]) => values[Math.floor(values.length * 0.95)] ?? 0;
        const events = sorted((s) => s.events);
        const seconds = sorted((s) => s.seconds);
        ctx.log(`lag under ${Math.round(rate)} logins/s (c=8): events behind p95 ${p95(events)}, max ${events.at(-1)}; seconds behind p95 ${p95(seconds).toFixed(2)}, max ${(seconds.at(-1) ?? 0).toFixed(2)} (${samples.length} samples)`);
        metrics.push(
          { metric: 'load_logins_per_s', value: rate, unit: 'logins/s' },
          { metric: 'lag_events_p95', value: p95(events), unit: 'events' },
          { metric: 'lag_events_max', value: events.at(-1) ?? 0, unit: 'events' },
          { metric: 'lag_seconds_p95', value: p95(seconds), unit: 's' },
          { metric: 'lag_seconds_max', value: seconds.at(-1) ?? 0, unit: 's' },
        );
      } finally {
        await load.close();
        await projector.stop();
        await server.close();
      }
      return metrics;
    } finally {
      await smallApp?.close().catch(() => {});
      await smallDb.close().catch(() => {});
      await smallRaw.end();
      await raw.unsafe(`drop database if exists ${smallDatabase} with (force)`);
      await raw.end();
      await app.close().catch(() => {});
    }
  },
};

export default scenario;
