// authenticateMfa with a valid TOTP code on a pending login, over HTTP (yoga, context, guards, TOTP verification,
// one transaction appending TotpCodeAccepted + MfaSucceeded + LoginCompleted + SessionStarted with inline
// projections), 8 concurrent clients on the load generator's thread (bench/load.ts), against raw single-row INSERTs
// at the same concurrency (autocommit, and transactions for continuity: bench/baselines.ts).
//
// Outside the timed section: users are signed up, TOTP is set up and activated, and a pending login is started for
// each, all through the API. Each timed request is a distinct user's pending login with that user's current code
// (generateTotpCode), so every request is a success and none is a replay. Argon2 runs at a low cost
// (ARGON2_MEMORY_KIB=1024, t=1) to keep the setup short: the timed request verifies no password. Before the first round,
// untimed: 3,000 MFA steps (500 users, 6 logins each) bring the path to V8's optimized code, as a running service's is.
import { baselineMeasurements, dbBoundRatios, rawInsertBaselines } from '../baselines.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { generateTotpCode } from '../../src/crypto/totp.js';
import { manualClock } from '../../src/domain/shared/clock.js';
import { startServer } from '../../src/graphql/server.js';
import { createMemoryAttemptBudget } from '../../src/security/attempts.js';
import { median, throughput, timed, type Scenario } from '../types.js';
import { gql, percentile, prepared } from '../http.js';
import { signedIn, startLoadGenerator } from '../load.js';

const clients = 8;
const perRound = Number(process.env.BENCH_TOTP_PER_ROUND ?? 600);
// Five rounds: the rounds of one run spread over 0.045–0.060 of the raw insert (each side lasts about a second on a
// machine whose PostgreSQL commits and cores are shared), wider than the distance to the floor.
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const warmUsersCount = 500;
const warmPasses = 6;
const T0 = Date.UTC(2026, 0, 1);

const scenario: Scenario = {
  name: 'totp',
  description: `authenticateMfa (TOTP) on pending logins over HTTP, ${clients} clients, vs raw autocommit INSERTs and INSERT transactions (${rounds}×${perRound} each)`,
  ratios: dbBoundRatios('authenticateMfa', 'authenticate_mfa_per_s', 0.05),
  async run(ctx) {
    const clock = manualClock(T0);
    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', DATA_DIR: '.data/bench' });
    const app = await createApp({
      config, db: ctx.openDb({ max: config.databasePoolSize }), clock, attempts: createMemoryAttemptBudget({ points: 1_000_000, ipPoints: 1_000_000, anonymousWritesPerIp: 1_000_000 }),
      env: { TESSERA_SECRET_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}` },
    });
    const running = await startServer(app, { port: 0, host: '127.0.0.1' });
    const url = `${running.url}/graphql`;
    const raw = await rawInsertBaselines(ctx.databaseUrl, clients);
    const load = startLoadGenerator();
    const ours: number[] = [];
    const baseline: number[] = [];
    const autocommit: number[] = [];
    const p95s: number[] = [];
    const password = 'bench password 1234';
    /** Signs up, sets up and activates TOTP (at the clock's step), all through the API. */
    const enrol = async (email: string): Promise<{ email: string; secret: string; device: string }> => {
      const signup = await gql(url, null, `mutation($i: CredentialsInput!) { signup(input: $i) { ... on AuthPayload { sessionToken deviceToken } ... on Error { code } } }`, { i: { email, password } });
      const device: string = signup.signup.deviceToken;
      const setup = await gql(url, signup.signup.sessionToken, `mutation { setupTotp { ... on TotpSetup { secret } ... on Error { code } } }`, {}, device);
      const secret: string = setup.setupTotp.secret;
      const code = await generateTotpCode({ secret, nowMs: clock.now().getTime() });
      const activated = await gql(url, signup.signup.sessionToken, `mutation($c: String!) { activateTotp(input: { code: $c }) { ... on ActivateTotpPayload { sessionToken } ... on Error { code } } }`, { c: code }, device);
      if (!activated.activateTotp.sessionToken) throw new Error(`activation failed: ${JSON.stringify(activated)}`);
      return { email, secret, device };
    };
    /** A password login that stops at the MFA step: its pending token. */
    const pendingLogin = async (user: { email: string; device: string }): Promise<string> =>
      (await gql(url, null, `mutation($i: CredentialsInput!) { login(input: $i) { ... on AuthPayload { sessionToken } ... on Error { code } } }`, { i: { email: user.email, password } }, user.device)).login.sessionToken;
    const stepQuery = `mutation($c: String!) { authenticateMfa(input: { code: $c }) { __typename ... on Error { code } } }`;
    try {
      // Warm-up, untimed. V8 optimizes a function only after some thousands of calls (its tiering budget): with a
      // warm-up of 100, 300 or even 1,000 MFA steps, --trace-opt showed it optimizing the path's own functions
      // (useCodeIn for the first time, appendBatch again once the MFA step's events had deoptimized the code the
      // signups shaped) during the first timed round, which came out 10–25% below the later ones. So 3,000 steps:
      // 500 users answering 6 logins each, the clock a TOTP step further at each pass (no code is a replay).
      clock.set(T0);
      const warmUsers = new Array<{ email: string; secret: string; device: string }>(warmUsersCount);
      await throughput(warmUsersCount, clients, async (i) => { warmUsers[i] = await enrol(`warm${i}@bench.example`); });
      for (let pass = 0; pass < warmPasses; pass++) {
        clock.advance(30_000);
        const tokens = new Array<string>(warmUsersCount);
        await throughput(warmUsersCount, clients, async (i) => { tokens[i] = await pendingLogin(warmUsers[i]!); });
        const codes = await Promise.all(warmUsers.map((u) => generateTotpCode({ secret: u.secret, nowMs: clock.now().getTime() })));
        await load.posts(url, warmUsers.map((u, i) => prepared(stepQuery, { c: codes[i]! }, tokens[i]!, u.device)), clients, signedIn);
      }
      for (let round = 1; round <= rounds; round++) {
        // Setup, untimed: activation at step s, logins answered at step s+1.
        clock.set(T0 + round * 3600_000);
        const pending = new Array<{ token: string; secret: string; device: string }>(perRound);
        await throughput(perRound, clients, async (i) => {
          const user = await enrol(`r${round}u${i}@bench.example`);
          pending[i] = { token: await pendingLogin(user), secret: user.secret, device: user.device };
        });
        clock.advance(30_000);
        const codes = await Promise.all(pending.map((p) => generateTotpCode({ secret: p.secret, nowMs: clock.now().getTime() })));
        await ctx.analyze();

        const rawRate = await raw.transactions(perRound);
        const autocommitRate = await raw.autocommit(perRound);
        const steps = pending.map((p, i) => prepared(stepQuery, { c: codes[i]! }, p.token, p.device));
        const { rate, latencies } = await timed(perRound, () => load.posts(url, steps, clients, signedIn));
        baseline.push(rawRate);
        autocommit.push(autocommitRate);
        ours.push(rate);
        p95s.push(percentile(latencies, 95));
        ctx.log(`round ${round}: raw autocommit ${Math.round(autocommitRate)}/s, raw tx ${Math.round(rawRate)}/s, authenticateMfa ${Math.round(rate)}/s (p95 ${percentile(latencies, 95).toFixed(1)} ms, ÷ autocommit ${(rate / autocommitRate).toFixed(3)})`);
      }
    } finally {
      await raw.end();
      await load.close();
      await running.close();
    }
    return [
      { metric: 'authenticate_mfa_per_s', value: median(ours), unit: 'requests/s', samples: ours },
      { metric: 'authenticate_mfa_p95_ms', value: median(p95s), unit: 'ms', samples: p95s },
      ...baselineMeasurements(baseline, autocommit, median),
    ];
  },
};

export default scenario;
