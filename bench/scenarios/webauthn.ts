// Passkey login over HTTP (beginWebAuthnAuthentication(PASSKEY_LOGIN), then loginWithPasskey: challenge consumed,
// ES256 verified, one transaction appending WebAuthnAssertionAccepted + LoginStarted + LoginCompleted + SessionStarted
// with inline projections), 8 concurrent clients on the load generator's thread (bench/load.ts), signing with soft
// authenticators there, against raw single-row INSERTs (autocommit, and transactions for continuity:
// bench/baselines.ts) at the same concurrency. Beside it: raw P-256 ECDSA verifies/s with node:crypto (one core), to
// show the signature check is not the bottleneck, and the p95 of the WebAuthn MFA step (options + assertion).
//
// Untimed setup: users sign up and register a passkey through the API; for the MFA step each user's password login
// is started (argon2 at a low cost) before the clock starts.
import { createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { baselineMeasurements, dbBoundRatios, rawInsertBaselines } from '../baselines.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/graphql/server.js';
import { createMemoryAttemptBudget } from '../../src/security/attempts.js';
import { startLoadGenerator } from '../load.js';
import { median, throughput, timed, type Scenario } from '../types.js';
import { gql, percentile } from '../http.js';

const clients = 8;
const perRound = Number(process.env.BENCH_WEBAUTHN_PER_ROUND ?? 400);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const warmUp = 3000;
// The origin the soft authenticators claim; the server's listening port does not matter to WebAuthn.
const ORIGIN = 'http://localhost:4000';

function ecdsaVerifiesPerSecond(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.alloc(69, 1);
  const signature = createSign('sha256').update(message).sign(privateKey);
  const started = process.hrtime.bigint();
  let count = 0;
  while (Number(process.hrtime.bigint() - started) < 1e9) {
    if (!createVerify('sha256').update(message).verify(publicKey, signature)) throw new Error('verify failed');
    count++;
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

const scenario: Scenario = {
  name: 'webauthn',
  description: `passkey logins (options + assertion) over HTTP, ${clients} clients, vs raw autocommit INSERTs and INSERT transactions (${rounds}×${perRound} each)`,
  ratios: dbBoundRatios('passkey logins', 'passkey_logins_per_s', 0.025),
  async run(ctx) {
    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', DATA_DIR: '.data/bench', WEBAUTHN_ORIGINS: ORIGIN });
    const app = await createApp({
      config, db: ctx.openDb({ max: config.databasePoolSize }), attempts: createMemoryAttemptBudget({ points: 1_000_000, ipPoints: 1_000_000, anonymousWritesPerIp: 1_000_000 }),
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
    const ecdsa: number[] = [];
    try {
      for (let round = 1; round <= rounds; round++) {
        // Set-up, untimed: sign-ups and registration options here, the soft authenticators on the load generator's
        // thread (which signs every assertion of the timed sections), then the registrations here.
        const users = new Array<{ name: string; email: string; token: string; device: string; creationOptions: unknown }>(perRound);
        await throughput(perRound, clients, async (i) => {
          const email = `r${round}u${i}@bench.example`;
          const signup = await gql(url, null, `mutation($i: CredentialsInput!) { signup(input: $i) { ... on AuthPayload { sessionToken deviceToken } ... on Error { code } } }`, { i: { email, password: 'bench password 1234' } });
          const token: string = signup.signup.sessionToken;
          const device: string = signup.signup.deviceToken;
          const begun = await gql(url, token, `mutation { beginWebAuthnRegistration(input: { passwordless: true }) { ... on WebAuthnCreationOptions { creationOptions } ... on Error { code } } }`, {}, device);
          users[i] = { name: email, email, token, device, creationOptions: begun.beginWebAuthnRegistration.creationOptions };
        });
        const credentials = await load.register(ORIGIN, 'localhost', users);
        await throughput(perRound, clients, async (i) => {
          const registered = await gql(url, users[i]!.token, `mutation($c: JSON!) { registerWebAuthn(input: { name: "bench", credential: $c }) { __typename ... on Error { code } } }`, { c: credentials[i] }, users[i]!.device);
          if (registered.registerWebAuthn.__typename !== 'RegisterWebAuthnPayload') throw new Error(JSON.stringify(registered));
        });
        await ctx.analyze();

        const passkeyLogins = users.map((u) => ({ name: u.name, device: u.device }));
        // Before the first timed round nothing had run a passkey login's code (the JIT, the prepared statements): a
        // warm-up of logins by the round's own users (a passkey logs in again and again). Three thousand, not a hundred:
        // V8 optimizes a function only after some thousands of calls, and after a hundred it was still optimizing the
        // path's functions through the first timed round (--trace-opt), which came out a fifth below the later ones.
        if (round === 1) await load.assertions(url, Array.from({ length: warmUp }, (_, i) => passkeyLogins[i % perRound]!), clients);

        const rawRate = await raw.transactions(perRound);
        const autocommitRate = await raw.autocommit(perRound);
        const { rate } = await timed(perRound, () => load.assertions(url, passkeyLogins, clients));

        // The MFA step: password logins started untimed, then options + assertion timed per request.
        const pending = new Array<string>(perRound);
        await throughput(perRound, clients, async (i) => {
          const login = await gql(url, null, `mutation($i: CredentialsInput!) { login(input: $i) { ... on AuthPayload { sessionToken } ... on Error { code } } }`, { i: { email: users[i]!.email, password: 'bench password 1234' } }, users[i]!.device);
          pending[i] = login.login.sessionToken;
        });
        const { latencies } = await timed(perRound, () => load.assertions(url, users.map((u, i) => ({ name: u.name, device: u.device, token: pending[i]! })), clients));
        const verifies = ecdsaVerifiesPerSecond();
        baseline.push(rawRate);
        autocommit.push(autocommitRate);
        ours.push(rate);
        p95s.push(percentile(latencies, 95));
        ecdsa.push(verifies);
        ctx.log(`round ${round}: raw autocommit ${Math.round(autocommitRate)}/s, raw tx ${Math.round(rawRate)}/s, passkey logins ${Math.round(rate)}/s (÷ autocommit ${(rate / autocommitRate).toFixed(3)}), MFA step p95 ${percentile(latencies, 95).toFixed(1)} ms, P-256 verifies ${Math.round(verifies)}/s`);
      }
    } finally {
      await raw.end();
      await load.close();
      await running.close();
    }
    return [
      { metric: 'passkey_logins_per_s', value: median(ours), unit: 'logins/s', samples: ours },
      ...baselineMeasurements(baseline, autocommit, median),
      { metric: 'p256_verifies_per_s', value: median(ecdsa), unit: 'verifies/s (1 core)', samples: ecdsa },
      { metric: 'webauthn_mfa_step_p95_ms', value: median(p95s), unit: 'ms (options + assertion)', samples: p95s },
    ];
  },
};

export default scenario;
