// Password logins per second through GraphQL over HTTP (the whole flow to a session: lookup, argon2 verify, login and
// session streams, inline projections, the cookie and token) against raw @node-rs/argon2 verifies per second with the
// same parameters at the same concurrency, measured alternately in one run. The hash should be the only real cost.
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createAccount } from '../../src/application/signup.js';
import { startServer } from '../../src/graphql/server.js';
import { post } from '../http.js';
import { signedIn, startLoadGenerator, type PreparedPost } from '../load.js';
import { median, throughput, timed, type Measurement, type Scenario } from '../types.js';

const concurrencies = (process.env.BENCH_LOGIN_CONCURRENCY ?? '2,8').split(',').map(Number);
// Five rounds of 320 logins each way: with 160 a round lasted about a second, and the rounds of one run spread over
// 0.73–0.79 of the raw hash, as wide as the distance to the floor.
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const loginsPerRound = Number(process.env.BENCH_LOGINS ?? 320);
const warmUp = Number(process.env.BENCH_LOGIN_WARMUP ?? 3000);
const userCount = 16;
const password = 'correct horse battery staple';
const LOGIN = `mutation($input: CredentialsInput!) { login(input: $input) { __typename ... on AuthPayload { sessionToken } ... on Error { code } } }`;

const scenario: Scenario = {
  name: 'login',
  description: `password logins/s over GraphQL vs raw argon2id verifies/s (m=19456 t=2 p=1) at concurrency ${concurrencies.join(' and ')}`,
  // The floor is at 8 clients, where the cores are saturated and the ratio is throughput. At 2 clients each
  // login is a hash and then the request's own work in sequence, so the ratio is latency: measured, not a gate. The
  // service computes at most one hash per core (PASSWORD_HASH_CONCURRENCY), on threads of its own that start the next
  // hash as soon as one ends (src/crypto/hashWorkers.ts), while raw verifies at 8 clients run four at once on libuv's
  // four threads, the library's default; "c=8 ÷ raw c=2" compares with the raw hash at one per core too.
  ratios: [
    ...concurrencies.map((c) => ({ name: `login ÷ argon2 verify (c=${c})`, numerator: `logins_per_s_c${c}`, denominator: `argon2_verifies_per_s_c${c}`, floor: c === 8 ? 0.75 : 0, paired: true })),
    ...(concurrencies.includes(2) && concurrencies.includes(8)
      ? [{ name: 'login c=8 ÷ argon2 verify c=2', numerator: 'logins_per_s_c8', denominator: 'argon2_verifies_per_s_c2', floor: 0 }]
      : []),
  ],
  async run(ctx) {
    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', PORT: '0' });
    // A budget that never runs out: this measures the login path, not the throttle.
    const attempts = { consume: async () => {}, refund: async () => {}, consumeAddress: async () => {} };
    const app = await createApp({ config, db: ctx.openDb({ max: config.databasePoolSize }), attempts });
    const server = await startServer(app, { port: 0, host: '127.0.0.1' });
    const url = `${server.url}/graphql`;
    const load = startLoadGenerator();
    try {
      // Outside the timed sections: the accounts, and one stored hash for the raw comparison.
      const emails = Array.from({ length: userCount }, (_, i) => `bench-${i}@example.com`);
      for (const email of emails) await createAccount(app, { email, password }, { clientAddress: 'bench', userAgent: 'bench', requestId: 'bench', actor: 'bench' });
      const phc = await argon2Hash(password, { algorithm: 2, ...config.argon2 });
      // Each user logs in from one browser, which keeps its device cookie (as a real one does): its first login, here,
      // makes the device known to the account, and the later ones (sent by the load generator, bench/load.ts) carry
      // its cookie and write no DeviceSeen.
      const deviceCookies: string[] = [];
      for (const email of emails) {
        const res = await post(url, { 'content-type': 'application/json' }, { query: LOGIN, variables: { input: { email, password } } });
        const device = res.cookies.find((c) => /^(__Host-)?tessera_device=/.test(c));
        if (!device) throw new Error(`no device cookie: ${JSON.stringify(res.json)}`);
        deviceCookies.push(device.split(';')[0]!);
      }
      const logins = (count: number): PreparedPost[] => Array.from({ length: count }, (_, i) => ({
        headers: { 'content-type': 'application/json', cookie: deviceCookies[i % userCount]! },
        body: JSON.stringify({ query: LOGIN, variables: { input: { email: emails[i % userCount], password } } }),
      }));
      const login = (count: number, c: number): Promise<number> =>
        timed(count, async () => (await load.posts(url, logins(count), c, signedIn)).rate);
      const verify = async (): Promise<void> => {
        if (!(await argon2Verify(phc, password))) throw new Error('verify failed');
      };
      // Warm-up: connections, prepared statements, and the JIT, which optimizes a function only after some thousands
      // of calls (with 8 logins of warm-up, the main thread spent 3.1–4.0 ms per login at 8 clients; with 3,000, 2.6).
      await load.posts(url, logins(warmUp), 8, signedIn);
      await ctx.analyze();
      const measurements: Measurement[] = [];
      for (const c of concurrencies) {
        const loginRates: number[] = [];
        const verifyRates: number[] = [];
        for (let round = 1; round <= rounds; round++) {
          verifyRates.push(await throughput(loginsPerRound, c, verify));
          loginRates.push(await login(loginsPerRound, c));
          ctx.log(`c=${c} round ${round}: argon2 ${verifyRates.at(-1)!.toFixed(1)}/s, login ${loginRates.at(-1)!.toFixed(1)}/s`);
        }
        measurements.push(
          { metric: `logins_per_s_c${c}`, value: median(loginRates), unit: 'logins/s', samples: loginRates },
          { metric: `argon2_verifies_per_s_c${c}`, value: median(verifyRates), unit: 'verifies/s', samples: verifyRates },
        );
      }
      return measurements;
    } finally {
      await load.close();
      await server.close();
    }
  },
};

export default scenario;
