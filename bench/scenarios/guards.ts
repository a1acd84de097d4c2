// Authenticated `me` queries per second through the real HTTP server with every guard on (graphql-armor, CSRF
// prevention, the one-authentication-mutation rule, the body limit) against the same server built without them
// (Config.guards = false, a switch only this benchmark uses). Both servers run side by side on one database; rounds
// alternate (off, on, off, on, …) and each figure is the median of its rounds. The queries come from the load
// generator's thread (bench/load.ts), so the clients' own cost does not dilute what the guards cost the service.
import { generateKeyPairSync } from 'node:crypto';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/graphql/server.js';
import { prepared } from '../http.js';
import { startLoadGenerator } from '../load.js';
import { median, timed, type Scenario } from '../types.js';

const concurrency = 16;
const perRound = Number(process.env.BENCH_GUARDS_PER_ROUND ?? 3000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const query = '{ me { id email roles sessions { id ip userAgent isCurrent aal } } }';
/** What every answer must contain: the signed-in user. */
const answered = '"me":{"id":';

const scenario: Scenario = {
  name: 'guards',
  description: `authenticated me queries over HTTP, guards on vs off, ${concurrency} clients (${rounds}×${perRound} each)`,
  ratios: [{ name: 'guards on ÷ guards off', numerator: 'me_guarded_per_s', denominator: 'me_unguarded_per_s', floor: 0.8, paired: true }],
  async run(ctx) {
    const env = {
      NODE_ENV: 'production', LOG_LEVEL: 'silent', TESSERA_SECRET_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}`,
      AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const config = loadConfig(env);
    const guardedApp = await createApp({ config, db: ctx.openDb({ max: config.databasePoolSize }), env });
    const openApp = await createApp({ config: { ...config, guards: false }, db: ctx.openDb({ max: config.databasePoolSize }), env });
    const guarded = await startServer(guardedApp, { port: 0, host: '127.0.0.1' });
    const open = await startServer(openApp, { port: 0, host: '127.0.0.1' });
    const load = startLoadGenerator();
    try {
      const signup = await fetch(`${guarded.url}/graphql`, {
        // An app client: it gets its session and device tokens in the payload, and sends them on every request.
        method: 'POST', headers: { 'content-type': 'application/json', 'x-tessera-client': 'app' },
        body: JSON.stringify({ query: 'mutation { signup(input: { email: "bench@example.com", password: "correct horse battery staple" }) { ... on AuthPayload { sessionToken deviceToken } } }' }),
      }).then((r) => r.json() as Promise<{ data: { signup: { sessionToken: string; deviceToken: string } } }>);
      // The guards want the CSRF header of a non-browser client on every request.
      const request = prepared(query, {}, signup.data.signup.sessionToken, signup.data.signup.deviceToken);
      request.headers['x-tessera-csrf'] = '1';
      const me = async (url: string, count: number): Promise<number> =>
        (await timed(count, () => load.posts(`${url}/graphql`, Array.from({ length: count }, () => request), concurrency, answered))).rate;
      // Warm-up, untimed, a round's worth each: after 500 queries the first timed round still ran a third slower.
      await me(open.url, perRound);
      await me(guarded.url, perRound);
      const on: number[] = [];
      const off: number[] = [];
      for (let round = 1; round <= rounds; round++) {
        off.push(await me(open.url, perRound));
        on.push(await me(guarded.url, perRound));
        ctx.log(`round ${round}: off ${Math.round(off.at(-1)!)}/s, on ${Math.round(on.at(-1)!)}/s (${(on.at(-1)! / off.at(-1)!).toFixed(3)})`);
      }
      return [
        { metric: 'me_guarded_per_s', value: median(on), unit: 'queries/s', samples: on },
        { metric: 'me_unguarded_per_s', value: median(off), unit: 'queries/s', samples: off },
      ];
    } finally {
      await load.close();
      await guarded.close();
      await open.close();
    }
  },
};

export default scenario;
