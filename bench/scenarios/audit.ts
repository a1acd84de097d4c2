// Issue 14's three figures on one seeded log, shared by all three measurements:
// - one user's last 50 audit events: p95 with 1,000,000 events in the log ÷ p95 with 10,000 (a ceiling of 1.5: the
//   cost must not grow with the log);
// - `tessera audit verify` (verifyAuditLog: every chain, every leaf, every signed root) events/s ÷ a raw SELECT of
//   every column of the same rows, read in the same batch size (floor 0.2);
// - single-event appends with the checkpointer running ÷ without it, on that log (floor 0.95).
// The log is seeded by COPY: events generated and chained by the project's own hashing (hash version 2, positions
// drawn up front), audit rows by the audit projector's own functions, and the leaves and signed checkpoints written
// by the checkpointer itself.
import { generateKeyPairSync } from 'node:crypto';
import postgres from 'postgres';
import { createApp, type App } from '../../src/app.js';
import { startCheckpointer, verifyAuditLog } from '../../src/application/auditLog.js';
import { loadConfig } from '../../src/config.js';
import { uncheckpointedCount, writeCheckpoint } from '../../src/eventstore/checkpoints.js';
import type { NewEvent } from '../../src/eventstore/index.js';
import { auditSummary, findLatestAuditEvents, subjectUserId } from '../../src/projections/audit.js';
import { liveSchema } from '../../src/projections/index.js';
import { median, throughput, type Measurement, type Scenario } from '../types.js';
import { createLogSeeder } from '../seed.js';

const smallLog = 10_000;
const largeLog = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const queries = Number(process.env.BENCH_AUDIT_QUERIES ?? 2000);
// Rounds of several seconds: the checkpointer ticks once a second, and a round of 2,000 appends (about 1.3 s) held
// one tick or two or, cut short, left a part of its leaves to the untimed catch-up before the next round: its round
// ratios spread over 0.86–1.34.
const appendsPerRound = Number(process.env.BENCH_APPENDS_PER_ROUND ?? 6000);
// Ten rounds each way: the ticks cost the appends 2–4 %, single rounds spread 0.84–1.09, and a median of six landed
// under the floor in some runs whose rounds were mostly above it.
const appendRounds = Number(process.env.BENCH_APPEND_ROUNDS ?? 10);
const hotUsers = 200;
const writers = 8;
const base = Date.parse('2026-01-01T00:00:00Z');

/** Event i of the seeded log: the first 10,000 give each hot user 50 events; later every tenth goes to a hot user. */
function userOf(i: number): string {
  if (i < smallLog) return `h${i % hotUsers}`;
  return i % 10 === 0 ? `h${(i / 10) % hotUsers}` : `c${i % 50_000}`;
}

function eventFor(userId: string, version: number, at: string): NewEvent {
  if (version === 1) return { type: 'UserRegistered', data: { userId, email: `${userId}@example.com`, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', at } };
  switch (version % 4) {
    case 0: return { type: 'RoleGranted', data: { userId, role: 'analyst', at } };
    case 1: return { type: 'UserLocked', data: { userId, until: at, failures: 10, at } };
    case 2: return { type: 'UserUnlocked', data: { userId, by: 'timeout', at } };
    default: return { type: 'EmailChanged', data: { userId, email: `${userId}.${version}@example.com`, previousEmail: `${userId}@example.com`, at } };
  }
}

interface Seeder { seedTo(count: number): Promise<void> }

/** Leafs and signs everything committed so far, with the checkpointer's own code (up to 200,000 leaves a checkpoint). */
async function checkpointEverything(app: App): Promise<void> {
  for (const deadline = Date.now() + 600_000; (await uncheckpointedCount(app.db, 1)) > 0 && Date.now() < deadline; ) {
    await writeCheckpoint(app.db, app.auditSigner, new Date());
  }
}

function seeder(raw: postgres.Sql, app: App, log: (m: string) => void): Seeder {
  const log_ = createLogSeeder(raw, (i, nextVersion) => {
    const userId = userOf(i);
    const streamId = `user-${userId}`;
    const recordedAt = new Date(base + i);
    return { streamId, event: eventFor(userId, nextVersion(streamId), recordedAt.toISOString()), metadata: { actor: userId, correlationId: `seed${i}`, ip: '198.51.100.7', userAgent: 'bench' }, recordedAt };
  }, [{
    // Audit rows by the audit projector's own functions, beside each chunk.
    target: `${liveSchema}.audit_events (position, stream_id, version, type, user_id, actor, correlation_id, ip, user_agent, summary, hash, recorded_at)`,
    row: (e) => [e.position, e.streamId, e.version, e.type, subjectUserId(e), e.metadata.actor ?? null, e.metadata.correlationId ?? null, e.metadata.ip ?? null,
      e.metadata.userAgent ?? null, JSON.stringify(auditSummary(e.data)), e.hash, e.recordedAt.toISOString()],
  }]);
  return {
    async seedTo(count) {
      const started = Date.now();
      await log_.seedTo(count);
      await checkpointEverything(app);
      await raw.unsafe(`vacuum analyze events`);
      await raw.unsafe(`vacuum analyze audit_leaves`);
      await raw.unsafe(`vacuum analyze ${liveSchema}.audit_events`);
      log(`log seeded to ${count.toLocaleString('en-US')} events in ${Date.now() - started} ms`);
    },
  };
}

async function p95OfLast50(app: App): Promise<{ p95: number; samples: number }> {
  for (let i = 0; i < 200; i++) await findLatestAuditEvents(app.db, { userId: `h${i % hotUsers}` }, null, 50); // warm
  const times: number[] = [];
  for (let i = 0; i < queries; i++) {
    const userId = `h${(i * 7919) % hotUsers}`;
    const started = process.hrtime.bigint();
    const rows = await findLatestAuditEvents(app.db, { userId }, null, 50);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (rows.length !== 50) throw new Error(`expected 50 events of ${userId}, got ${rows.length}`);
  }
  times.sort((a, b) => a - b);
  return { p95: times[Math.floor(times.length * 0.95)]!, samples: times.length };
}

const scenario: Scenario = {
  name: 'audit',
  description: `signed checkpoints: last-50 p95 at ${largeLog.toLocaleString('en-US')} vs ${smallLog.toLocaleString('en-US')} events, audit verify vs raw select, appends with vs without the checkpointer`,
  ratios: [
    { name: 'last 50: p95 1M ÷ p95 10k', numerator: 'last50_p95_ms_large', denominator: 'last50_p95_ms_small', floor: 0, ceiling: 1.5 },
    { name: 'audit verify ÷ raw select', numerator: 'verify_events_per_s', denominator: 'raw_select_rows_per_s', floor: 0.2, paired: true },
    { name: 'appends checkpointing on ÷ off', numerator: 'appends_checkpointing_per_s', denominator: 'appends_plain_per_s', floor: 0.95, paired: true },
  ],
  async run(ctx) {
    const env = {
      NODE_ENV: 'production', LOG_LEVEL: 'silent', TESSERA_SECRET_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}`,
      AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const app = await createApp({ config: loadConfig(env), db: ctx.openDb({ max: writers }), env, reactors: false });
    const raw = postgres(ctx.databaseUrl, { max: 2, onnotice: () => {} });
    const metrics: Measurement[] = [];
    try {
      const seed = seeder(raw, app, ctx.log);
      await seed.seedTo(smallLog);
      const small = await p95OfLast50(app);
      ctx.log(`last 50 at ${smallLog}: p95 ${small.p95.toFixed(3)} ms`);
      await seed.seedTo(largeLog);
      const large = await p95OfLast50(app);
      ctx.log(`last 50 at ${largeLog}: p95 ${large.p95.toFixed(3)} ms`);
      metrics.push(
        { metric: 'last50_p95_ms_small', value: small.p95, unit: 'ms' },
        { metric: 'last50_p95_ms_large', value: large.p95, unit: 'ms' },
      );

      const verifyRates: number[] = [];
      const selectRates: number[] = [];
      for (let round = 1; round <= rounds; round++) {
        let rows = 0;
        const selectStarted = process.hrtime.bigint();
        await raw.unsafe(`select * from events`).cursor(5000, (batch) => {
          rows += batch.length;
        });
        const selectRate = rows / (Number(process.hrtime.bigint() - selectStarted) / 1e9);
        const verifyStarted = process.hrtime.bigint();
        const result = await verifyAuditLog(app);
        const verifyRate = result.eventsChecked / (Number(process.hrtime.bigint() - verifyStarted) / 1e9);
        if (!result.ok || result.eventsChecked !== rows) throw new Error(`verification of the seeded log failed: ${JSON.stringify(result.breaks.slice(0, 3))}`);
        selectRates.push(selectRate);
        verifyRates.push(verifyRate);
        ctx.log(`round ${round}: raw select ${Math.round(selectRate)} rows/s, audit verify ${Math.round(verifyRate)} events/s (${(verifyRate / selectRate).toFixed(3)})`);
      }
      metrics.push(
        { metric: 'verify_events_per_s', value: median(verifyRates), unit: 'events/s', samples: verifyRates },
        { metric: 'raw_select_rows_per_s', value: median(selectRates), unit: 'rows/s', samples: selectRates },
      );

      // Appends on the large log, alternating: without a checkpointer, then with one running on the configured
      // schedule (AUDIT_CHECKPOINT_EVERY 1000, AUDIT_CHECKPOINT_SECONDS 60, polled every second).
      const versions = new Map<string, number>();
      const streams = 1000;
      const append = async (i: number, w: number): Promise<void> => {
        const s = (w + writers * (i % (streams / writers))) % streams;
        const streamId = `user-a${s}`;
        const v = versions.get(streamId) ?? 0;
        versions.set(streamId, v + 1);
        await app.store.append(streamId, [eventFor(`a${s}`, v + 1, new Date().toISOString())], { expectedVersion: v, metadata: { actor: 'bench', correlationId: `a${i}` } });
      };
      // The seeded log vacuumed (as autovacuum keeps a production one) and its pages written out first, untimed:
      // PostgreSQL writing out the million rows just loaded, and the hint bits the verification rounds set on them,
      // landed in some rounds and not others (appends alone swung by a fifth from one 3-second round to the next).
      await raw.unsafe('vacuum (analyze)');
      await raw.unsafe('checkpoint').catch(() => {});
      // Warm-up, untimed: a round's worth, so that no round runs the append path while V8 is still optimizing it (with
      // 400 appends of warm-up the appends alone rose from 1,463/s in the first round to 1,962/s in the last).
      await throughput(appendsPerRound, writers, append);
      // Rounds alternating which goes first, so a neighbour's load hits both sides alike; the ratio is the median of the
      // rounds' own ratios (RatioSpec.paired).
      const plain: number[] = [];
      const checkpointing: number[] = [];
      // A running checkpointer never meets a backlog of a whole round: the plain round just before left its events
      // unleafed, so they are checkpointed first, untimed, and each timed round measures the steady state.
      const withCheckpointer = async (): Promise<number> => {
        await checkpointEverything(app);
        const checkpointer = startCheckpointer(app);
        try {
          return await throughput(appendsPerRound, writers, append);
        } finally {
          await checkpointer.stop();
        }
      };
      for (let round = 1; round <= appendRounds; round++) {
        if (round % 2 === 1) {
          plain.push(await throughput(appendsPerRound, writers, append));
          checkpointing.push(await withCheckpointer());
        } else {
          checkpointing.push(await withCheckpointer());
          plain.push(await throughput(appendsPerRound, writers, append));
        }
        ctx.log(`round ${round}: appends ${Math.round(plain.at(-1)!)}/s, with the checkpointer ${Math.round(checkpointing.at(-1)!)}/s (${(checkpointing.at(-1)! / plain.at(-1)!).toFixed(3)})`);
      }
      const [{ n }] = (await raw.unsafe(`select count(*)::int as n from audit_checkpoints`)) as unknown as [{ n: number }];
      ctx.log(`${n} checkpoints signed in all`);
      metrics.push(
        { metric: 'appends_checkpointing_per_s', value: median(checkpointing), unit: 'appends/s', samples: checkpointing },
        { metric: 'appends_plain_per_s', value: median(plain), unit: 'appends/s', samples: plain },
      );
      return metrics;
    } finally {
      await raw.end();
      await app.close().catch(() => {});
    }
  },
};

export default scenario;
