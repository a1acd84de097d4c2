// Issue 19's figures:
// - p95 of a 30-day daily series (the whole sessionAnalytics series: every counter, distinct sessions and users,
//   adoption) with 1,000,000 events in the log ÷ with 10,000 (a ceiling of 1.5: the buckets are projections, so the
//   cost must not grow with the log). Both logs span the same 30 days; the log is seeded by COPY (bench/seed.ts, the
//   audit scenario's path) and the analysis tables are built by the asynchronous projector itself (its catch-up rate is
//   reported too);
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
import { createLogSeeder } from '../seed.js';
import { signedIn, startLoadGenerator } from '../load.js';
import { type Measurement, type Scenario } from '../types.js';

const smallLog = 10_000;
const largeLog = Number(process.env.BENCH_ANALYTICS_EVENTS ?? 1_000_000);
const queries = Number(process.env.BENCH_ANALYTICS_QUERIES ?? 300);
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

async function seriesP95(app: App): Promise<number> {
  const range = { from: new Date(base), to: new Date(base + 30 * 86_400_000), bucket: 'day' as const, timeZone: 'UTC' };
  for (let i = 0; i < 30; i++) await analyticsSeries(app.db, range); // warm
  const times: number[] = [];
  for (let i = 0; i < queries; i++) {
    const started = process.hrtime.bigint();
    const points = await analyticsSeries(app.db, range);
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
  await raw.unsafe(`vacuum analyze`);
  log(`${label}: the projector applied ${applied.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s (${Math.round(applied / seconds)} events/s)`);
  return applied / seconds;
}

const scenario: Scenario = {
  name: 'analytics',
  description: `30-day daily series p95 at ${largeLog.toLocaleString('en-US')} vs ${smallLog.toLocaleString('en-US')} events (ceiling 1.5), projector catch-up rate, projector lag under password-login load`,
  ratios: [{ name: 'series: p95 1M ÷ p95 10k', numerator: 'series_p95_ms_large', denominator: 'series_p95_ms_small', floor: 0, ceiling: 1.5 }],
  async run(ctx) {
    const env = { NODE_ENV: 'production', LOG_LEVEL: 'silent', PORT: '0', TESSERA_SECRET_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}`, ANALYTICS_POLL_MS: '200',
      AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const config = loadConfig(env);
    const app = await createApp({ config, db: ctx.openDb({ max: config.databasePoolSize }), env, reactors: false });
    const raw = postgres(ctx.databaseUrl, { max: 2, onnotice: () => {} });
    const metrics: Measurement[] = [];
    try {
      const seeder = createLogSeeder(raw, (i) => {
        const { streamId, event, recordedAt, ip } = eventAt(i);
        return { streamId, event, recordedAt, metadata: { actor: 'bench', ip, userAgent: 'bench' } };
      });
      await seeder.seedTo(smallLog);
      const smallRate = await catchUp(app, raw, ctx.log, `${smallLog} events`);
      const small = await seriesP95(app);
      ctx.log(`30-day daily series at ${smallLog}: p95 ${small.toFixed(3)} ms`);
      const seedStarted = Date.now();
      await seeder.seedTo(largeLog);
      ctx.log(`log seeded by COPY to ${largeLog.toLocaleString('en-US')} events in ${Date.now() - seedStarted} ms`);
      const largeRate = await catchUp(app, raw, ctx.log, `${largeLog} events`);
      const large = await seriesP95(app);
      ctx.log(`30-day daily series at ${largeLog}: p95 ${large.toFixed(3)} ms (${(large / small).toFixed(3)})`);
      metrics.push(
        { metric: 'series_p95_ms_small', value: small, unit: 'ms' },
        { metric: 'series_p95_ms_large', value: large, unit: 'ms' },
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
      await raw.end();
      await app.close().catch(() => {});
    }
  },
};

export default scenario;
