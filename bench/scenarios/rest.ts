// The allauth-compatible REST facade against GraphQL, same server, same run: a password login that stops at the MFA
// step followed by the TOTP step, through POST /_allauth/app/v1/auth/login + POST …/auth/2fa/authenticate
// (X-Session-Token) and through the GraphQL mutations login + authenticateMfa (Authorization: Bearer). Both call the
// same use cases, so the ratio measures what the facade itself costs (goal ≥ 0.95).
//
// Outside the timed section: users are signed up and TOTP is activated through GraphQL, twice as many as each timed
// section needs, since each user logs in once (a second login in the same step would be a replayed code). The two
// transports take turns in eight slices per round, alternating which goes first, and each one's rate is its logins
// over its own summed time. Argon2 runs at a low cost (ARGON2_MEMORY_KIB=1024, t=1)
// so the password hash, identical in both, does not hide the transports' own cost. The timed logins come from the load
// generator's thread (bench/load.ts, `chains`: the login, then the MFA step with the token its answer gave), so the
// clients' own cost, the same for both, does not pull the ratio towards 1.
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { generateTotpCode } from '../../src/crypto/totp.js';
import { manualClock } from '../../src/domain/shared/clock.js';
import { startServer } from '../../src/graphql/server.js';
import { createMemoryAttemptBudget } from '../../src/security/attempts.js';
import { median, throughput, timed, type Scenario } from '../types.js';
import { gql, percentile, prepared } from '../http.js';
import { signedIn, startLoadGenerator, type ChainedPosts } from '../load.js';

const clients = 8;
const perRound = Number(process.env.BENCH_REST_PER_ROUND ?? 400);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const T0 = Date.UTC(2026, 0, 1);
const password = 'bench password 1234';

const scenario: Scenario = {
  name: 'rest',
  description: `login + TOTP step through the allauth REST facade vs through GraphQL, ${clients} clients (${rounds}×${perRound} each)`,
  ratios: [{ name: 'REST ÷ GraphQL (login + TOTP)', numerator: 'rest_login_totp_per_s', denominator: 'graphql_login_totp_per_s', floor: 0.95, paired: true }],
  async run(ctx) {
    const clock = manualClock(T0);
    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', DATA_DIR: '.data/bench' });
    const app = await createApp({
      config, db: ctx.openDb({ max: config.databasePoolSize }), clock, attempts: createMemoryAttemptBudget({ points: 1_000_000, ipPoints: 1_000_000, anonymousWritesPerIp: 1_000_000 }),
      env: { TESSERA_SECRET_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}` },
    });
    const running = await startServer(app, { port: 0, host: '127.0.0.1' });
    const load = startLoadGenerator();
    const graphqlUrl = `${running.url}/graphql`;
    const restUrl = `${running.url}/_allauth/app/v1`;
    const rates = { rest: [] as number[], graphql: [] as number[] };
    const p95s = { rest: [] as number[], graphql: [] as number[] };
    try {
      for (let round = 1; round <= rounds; round++) {
        clock.set(T0 + round * 3600_000);
        const users = new Array<{ email: string; secret: string }>(2 * perRound);
        await throughput(2 * perRound, clients, async (i) => {
          const email = `r${round}u${i}@bench.example`;
          const signup = await gql(graphqlUrl, null, `mutation($i: CredentialsInput!) { signup(input: $i) { ... on AuthPayload { sessionToken } ... on Error { code } } }`, { i: { email, password } });
          const token: string = signup.signup.sessionToken;
          const setup = await gql(graphqlUrl, token, `mutation { setupTotp { ... on TotpSetup { secret } ... on Error { code } } }`);
          const secret: string = setup.setupTotp.secret;
          if (!secret) throw new Error(`setup failed: ${JSON.stringify({ signup, setup })}`);
          const code = await generateTotpCode({ secret, nowMs: clock.now().getTime() });
          const activated = await gql(graphqlUrl, token, `mutation($c: String!) { activateTotp(input: { code: $c }) { ... on ActivateTotpPayload { sessionToken } ... on Error { code } } }`, { c: code });
          if (!activated.activateTotp.sessionToken) throw new Error(`activation failed: ${JSON.stringify(activated)}`);
          users[i] = { email, secret };
        });
        clock.advance(30_000);
        const codes = await Promise.all(users.map((u) => generateTotpCode({ secret: u.secret, nowMs: clock.now().getTime() })));

        // The two transports take turns in short slices, so load from elsewhere on the machine falls on both alike.
        const slices = 8;
        const size = Math.ceil(perRound / slices);
        const elapsed = { rest: 0, graphql: 0 };
        const latencies = { rest: [] as number[], graphql: [] as number[] };
        // Each login and its MFA step, prepared: REST users are the first half, GraphQL users the second.
        const restHeaders = { 'content-type': 'application/json', accept: 'application/json' };
        const chains = {
          rest: users.slice(0, perRound).map((u, i): ChainedPosts => ({
            first: { url: `${restUrl}/auth/login`, status: 401, headers: restHeaders, body: JSON.stringify({ email: u.email, password }) },
            second: { url: `${restUrl}/auth/2fa/authenticate`, status: 200, headers: { ...restHeaders, 'x-session-token': '{token}' }, body: JSON.stringify({ code: codes[i] }) },
          })),
          graphql: users.slice(perRound).map((u, i): ChainedPosts => ({
            first: { url: graphqlUrl, status: 200, ...prepared(`mutation($i: CredentialsInput!) { login(input: $i) { ... on AuthPayload { sessionToken authState { flows { id isPending } } } ... on Error { code } } }`, { i: { email: u.email, password } }, null) },
            second: { url: graphqlUrl, status: 200, ...prepared(`mutation($c: String!) { authenticateMfa(input: { code: $c }) { __typename ... on AuthPayload { sessionToken authState { isAuthenticated } } ... on Error { code } } }`, { c: codes[perRound + i] }, '{token}') },
          })),
        };
        const run = {
          rest: (from: number, count: number) => load.chains(running.url, chains.rest.slice(from, from + count), '"session_token":"([^"]+)"', clients, '"is_authenticated":true'),
          graphql: (from: number, count: number) => load.chains(running.url, chains.graphql.slice(from, from + count), '"sessionToken":"([^"]+)"', clients, signedIn),
        };
        for (let slice = 0; slice < slices; slice++) {
          const order = (round + slice) % 2 === 1 ? (['rest', 'graphql'] as const) : (['graphql', 'rest'] as const);
          for (const transport of order) {
            const count = Math.min(size, perRound - slice * size);
            const { rate, latencies: each } = await timed(count, () => run[transport](slice * size, count));
            elapsed[transport] += count / rate;
            latencies[transport].push(...each);
          }
        }
        for (const transport of ['rest', 'graphql'] as const) {
          rates[transport].push(perRound / elapsed[transport]);
          p95s[transport].push(percentile(latencies[transport], 95));
        }
        const r = rates.rest.at(-1)!;
        const g = rates.graphql.at(-1)!;
        ctx.log(`round ${round}: REST ${Math.round(r)}/s (p95 ${p95s.rest.at(-1)!.toFixed(1)} ms), GraphQL ${Math.round(g)}/s (p95 ${p95s.graphql.at(-1)!.toFixed(1)} ms), ratio ${(r / g).toFixed(3)}`);
      }
    } finally {
      await load.close();
      await running.close();
    }
    return [
      { metric: 'rest_login_totp_per_s', value: median(rates.rest), unit: 'logins/s', samples: rates.rest },
      { metric: 'rest_login_totp_p95_ms', value: median(p95s.rest), unit: 'ms', samples: p95s.rest },
      { metric: 'graphql_login_totp_per_s', value: median(rates.graphql), unit: 'logins/s', samples: rates.graphql },
      { metric: 'graphql_login_totp_p95_ms', value: median(p95s.graphql), unit: 'ms', samples: p95s.graphql },
    ];
  },
};

export default scenario;
