// Single-event appends through EventStore.append (version check, hash chain, inline projections) across 1,000
// streams on 8 writers, against the same number of raw single-row INSERTs at the same concurrency: autocommit
// prepared inserts (the baseline) and, for continuity, `begin; insert; commit` transactions (bench/baselines.ts).
// They alternate (raw, ours, raw, ours, ...) and each figure is the median of its rounds.
import { baselineMeasurements, dbBoundRatios, rawInsertBaselines } from '../baselines.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { NewEvent } from '../../src/eventstore/index.js';
import { median, throughput, type Scenario } from '../types.js';

const streams = 1000;
const writers = 8;
const perRound = Number(process.env.BENCH_APPENDS_PER_ROUND ?? 4000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const argonHash = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0h3p6J1yq1Qm9r6i8vXq9l3m0b2c4d6e8f0a1b3c5d7';

/** The n-th event of a user's stream: registration first, then the account's ordinary life. */
function userEvent(userId: string, version: number, at: string): NewEvent {
  if (version === 1) return { type: 'UserRegistered', data: { userId, email: `${userId}@example.com`, passwordHash: argonHash, at } };
  switch (version % 4) {
    case 0: return { type: 'RoleGranted', data: { userId, role: 'analyst', at } };
    case 1: return { type: 'UserLocked', data: { userId, until: at, failures: 10, at } };
    case 2: return { type: 'UserUnlocked', data: { userId, by: 'timeout', at } };
    default: return { type: 'EmailChanged', data: { userId, email: `${userId}.${version}@example.com`, previousEmail: `${userId}@example.com`, at } };
  }
}

const scenario: Scenario = {
  name: 'appends',
  description: `single-event appends over ${streams} streams, ${writers} writers, vs raw autocommit INSERTs and INSERT transactions (${rounds}×${perRound} each)`,
  ratios: dbBoundRatios('appends', 'appends_per_s', 0.15),
  async run(ctx) {
    const app = await createApp({ config: loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent' }), db: ctx.openDb({ max: writers }) });
    const raw = await rawInsertBaselines(ctx.databaseUrl, writers);
    const versions = new Array<number>(streams).fill(0);
    const ours: number[] = [];
    const baseline: number[] = [];
    const autocommit: number[] = [];
    const at = new Date().toISOString();
    // Writer w owns the streams with index ≡ w (mod 8), so its expected versions are exact and no append conflicts.
    const streamFor = (i: number, worker: number): number => (worker + writers * (i % (streams / writers))) % streams;
    const append = async (i: number, w: number): Promise<void> => {
      const s = streamFor(i, w);
      const expectedVersion = versions[s]!;
      versions[s] = expectedVersion + 1;
      await app.store.append(`user-u${s}`, [userEvent(`u${s}`, expectedVersion + 1, at)], { expectedVersion, metadata: { actor: 'bench', correlationId: `b${i}` } });
    };
    try {
      // Warm-up, untimed: V8 optimizes a function only after some thousands of calls, and without it the first round
      // ran the append path's code as it was being optimized (0.143 of the raw insert against 0.159 and 0.207 after).
      await throughput(perRound, writers, append);
      for (let round = 1; round <= rounds; round++) {
        // The streams grow round after round: each round runs on tables analyzed as they are.
        await ctx.analyze();
        const rawRate = await raw.transactions(perRound);
        const autocommitRate = await raw.autocommit(perRound);
        const appendRate = await throughput(perRound, writers, append);
        baseline.push(rawRate);
        autocommit.push(autocommitRate);
        ours.push(appendRate);
        ctx.log(`round ${round}: raw autocommit ${Math.round(autocommitRate)}/s, raw tx ${Math.round(rawRate)}/s, appends ${Math.round(appendRate)}/s (${(appendRate / autocommitRate).toFixed(3)} of autocommit)`);
      }
    } finally {
      await raw.end();
    }
    return [
      { metric: 'appends_per_s', value: median(ours), unit: 'appends/s', samples: ours },
      ...baselineMeasurements(baseline, autocommit, median),
    ];
  },
};

export default scenario;
