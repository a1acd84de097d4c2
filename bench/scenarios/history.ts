// Flat cost (issue 20 item 2): password login + TOTP MFA step, one at a time over HTTP, for a user with 10,000 prior
// successful TOTP logins on the authenticators stream against a user with none; p50 of each, alternating. The long
// history is seeded through the event store's own append (TotpCodeAccepted at old steps, in batches), not through
// 10,000 API calls; a few warm-up requests let the first load fold the log once and write its snapshot.
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { generateTotpCode } from '../../src/crypto/totp.js';
import { manualClock } from '../../src/domain/shared/clock.js';
import { startServer } from '../../src/graphql/server.js';
import { createMemoryAttemptBudget } from '../../src/security/attempts.js';
import { gql, percentile } from '../http.js';
import { type Scenario } from '../types.js';

const priorLogins = Number(process.env.BENCH_HISTORY_PRIOR ?? 10_000);
const samples = Number(process.env.BENCH_HISTORY_SAMPLES ?? 60);
const T0 = Date.UTC(2026, 0, 1);
const PASSWORD = 'bench password 1234';
const SIGNUP = `mutation($i: CredentialsInput!) { signup(input: $i) { ... on AuthPayload { sessionToken deviceToken } ... on Error { code } } }`;
const LOGIN = `mutation($i: CredentialsInput!) { login(input: $i) { __typename ... on AuthPayload { sessionToken } ... on Error { code } } }`;
const MFA = `mutation($c: String!) { authenticateMfa(input: { code: $c }) { __typename ... on Error { code } } }`;

const scenario: Scenario = {
  name: 'history',
  description: `login + TOTP MFA step p50 with ${priorLogins.toLocaleString('en-US')} prior successful TOTP logins vs none (${samples} each, alternating)`,
  ratios: [{ name: 'login+MFA p50 long history ÷ none', numerator: 'login_mfa_p50_ms_history', denominator: 'login_mfa_p50_ms_fresh', floor: 0, ceiling: 1.2 }],
  async run(ctx) {
    const clock = manualClock(T0);
    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', DATA_DIR: '.data/bench' });
    const app = await createApp({
      config, db: ctx.openDb({ max: config.databasePoolSize }), clock, attempts: createMemoryAttemptBudget({ points: 1_000_000, ipPoints: 1_000_000, anonymousWritesPerIp: 1_000_000 }),
      env: { TESSERA_SECRET_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}` },
    });
    const running = await startServer(app, { port: 0, host: '127.0.0.1' });
    const url = `${running.url}/graphql`;
    try {
      const users = await Promise.all(['fresh', 'history'].map(async (name) => {
        const email = `${name}@bench.example`;
        const signup = await gql(url, null, SIGNUP, { i: { email, password: PASSWORD } });
        const setup = await gql(url, signup.signup.sessionToken, `mutation { setupTotp { ... on TotpSetup { secret } ... on Error { code } } }`, {}, signup.signup.deviceToken);
        const secret: string = setup.setupTotp.secret;
        const activated = await gql(url, signup.signup.sessionToken, `mutation($c: String!) { activateTotp(input: { code: $c }) { __typename ... on Error { code } } }`, { c: await generateTotpCode({ secret, nowMs: clock.now().getTime() }) }, signup.signup.deviceToken);
        if (activated.activateTotp.__typename !== 'ActivateTotpPayload') throw new Error(JSON.stringify(activated));
        const [row] = await app.db.query<{ user_id: string }>(`select user_id from proj.users where email_hash = $1`, [app.personalData.hashes.email(email)]);
        return { name, email, secret, device: signup.signup.deviceToken as string, userId: row!.user_id };
      }));
      // The history: accepted codes at steps long past, appended in batches through EventStore.append.
      const heavy = users[1]!;
      const stream = `authenticators-${heavy.userId}`;
      let version = await app.store.streamVersion(stream);
      const seeded = Date.now();
      const at = new Date(T0 - 86400_000).toISOString();
      for (let done = 0; done < priorLogins; done += 500) {
        const events = Array.from({ length: Math.min(500, priorLogins - done) }, (_, i) => ({ type: 'TotpCodeAccepted', data: { userId: heavy.userId, step: 1000 + done + i, purpose: 'login', at } }));
        version = (await app.store.append(stream, events, { expectedVersion: version, metadata: { actor: 'bench' } })).nextExpectedVersion;
      }
      ctx.log(`seeded ${priorLogins.toLocaleString('en-US')} TotpCodeAccepted in ${((Date.now() - seeded) / 1000).toFixed(1)} s (stream at version ${version})`);

      const latencies = new Map<string, number[]>(users.map((u) => [u.name, []]));
      const once = async (user: (typeof users)[number], record: boolean): Promise<void> => {
        const started = process.hrtime.bigint();
        const login = await gql(url, null, LOGIN, { i: { email: user.email, password: PASSWORD } }, user.device);
        const code = await generateTotpCode({ secret: user.secret, nowMs: clock.now().getTime() });
        const step = await gql(url, login.login.sessionToken, MFA, { c: code }, user.device);
        if (step.authenticateMfa.__typename !== 'AuthPayload') throw new Error(`MFA step failed: ${JSON.stringify(step)}`);
        if (record) latencies.get(user.name)!.push(Number(process.hrtime.bigint() - started) / 1e6);
      };
      for (let i = 0; i < samples + 5; i++) {
        clock.advance(30_000); // a new step for each round: no code is a replay
        // Alternate which goes first, so neither always gets the warmer cache.
        for (const user of i % 2 ? users : [...users].reverse()) await once(user, i >= 5);
      }
      // For comparison, what the snapshot saves: the same requests with every snapshot dropped first (each then folds
      // the whole stream, as before snapshots), fewer of them.
      const withoutSnapshot: number[] = [];
      for (let i = 0; i < Math.max(5, Math.floor(samples / 3)); i++) {
        clock.advance(30_000);
        await app.db.query(`delete from snapshots`);
        const started = process.hrtime.bigint();
        await once(heavy, false);
        withoutSnapshot.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      const p50 = (name: string): number => percentile(latencies.get(name)!, 50);
      ctx.log(`p50 fresh ${p50('fresh').toFixed(1)} ms, with history ${p50('history').toFixed(1)} ms (${(p50('history') / p50('fresh')).toFixed(3)}), with history and no snapshot ${percentile(withoutSnapshot, 50).toFixed(1)} ms`);
      return [
        { metric: 'login_mfa_p50_ms_history', value: p50('history'), unit: `ms (${priorLogins} prior TOTP logins)`, samples: latencies.get('history') },
        { metric: 'login_mfa_p50_ms_fresh', value: p50('fresh'), unit: 'ms (no prior logins)', samples: latencies.get('fresh') },
        { metric: 'login_mfa_p50_ms_history_no_snapshot', value: percentile(withoutSnapshot, 50), unit: 'ms (snapshots dropped before each)', samples: withoutSnapshot },
      ];
    } finally {
      await running.close();
    }
  },
};

export default scenario;
