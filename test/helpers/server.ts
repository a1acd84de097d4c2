import net from 'node:net';
// A real Tessera server on a fresh database, with a clock the test moves by hand, and GraphQL clients that behave
// like a browser (cookie jar; tokens never in the body) or an app (`X-Tessera-Client: app`, bearer token).
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { manualClock, type ManualClock } from '../../src/domain/shared/clock.js';
import { startServer } from '../../src/graphql/server.js';
import type { BodyLinger } from '../../src/http/bodyLimit.js';
import type { Logger } from '../../src/logger.js';
import type { AttemptBudget } from '../../src/security/attempts.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestServer {
  app: App;
  url: string;
  clock: ManualClock;
  database: TestDatabase;
  /** A client with its own cookie jar, like one browser: payloads carry no token, so `token` mirrors the session cookie. */
  browser(): GraphQLClient;
  /** A client that says `X-Tessera-Client: app` and sends `Authorization: Bearer <token>` once it has one. */
  appClient(token?: string): GraphQLClient;
  close(): Promise<void>;
}

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  data: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface GraphQLClient {
  token: string | undefined;
  /** The session cookie's value (whichever its name: `tessera_session`, or `__Host-tessera_session` over https). */
  cookie: string | undefined;
  /** Every cookie the server has set and not cleared, by its name on the wire; a browser client sends them all back. */
  jar: Map<string, string>;
  /** Sends one operation; remembers the session cookie or the `sessionToken` of the payload. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, options?: { headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
  /** Raw POST to /graphql with any body (for batching, huge bodies, CSRF tests). */
  post(body: string, headers?: Record<string, string>): Promise<Response>;
}

export async function startTestServer(options: { env?: Record<string, string>; attempts?: AttemptBudget; now?: Date; webRoot?: string; bodyLinger?: BodyLinger; logger?: Logger } = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const clock = manualClock(options.now ?? new Date());
  // The port is chosen before the config is loaded, so PUBLIC_ORIGIN (and with it the WebAuthn origins) is the real one.
  const port = await freePort();
  const config = loadConfig({ NODE_ENV: 'test', PORT: String(port), DATA_DIR: '.data/test', ...options.env });
  const app = await createApp({ config, db: database.db, clock, attempts: options.attempts, logger: options.logger });
  const running = await startServer(app, { port, host: '127.0.0.1', webRoot: options.webRoot, bodyLinger: options.bodyLinger });
  const url = running.url.replace('127.0.0.1', 'localhost');
  function client(kind: 'cookie' | 'bearer', initialToken?: string): GraphQLClient {
    const c: GraphQLClient = {
      token: initialToken,
      cookie: undefined,
      jar: new Map(),
      async post(body, headers = {}) {
        return fetch(`${url}/graphql`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
      },
      async gql(query, variables, opts = {}) {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tessera-csrf': '1' };
        if (kind === 'bearer') headers['x-tessera-client'] = 'app';
        if (kind === 'cookie' && c.jar.size > 0) headers.cookie = [...c.jar].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ');
        if (kind === 'bearer' && c.token) headers.authorization = `Bearer ${c.token}`;
        // An app keeps its device token (it is also set as a cookie, which is where this client picks it up).
        const deviceToken = [...c.jar].find(([name]) => /^(__Host-)?tessera_device$/.test(name))?.[1];
        if (kind === 'bearer' && deviceToken) headers['x-tessera-device'] = deviceToken;
        Object.assign(headers, opts.headers);
        const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
        for (const setCookie of res.headers.getSetCookie()) {
          const match = /^([^=;]+)=([^;]*)/.exec(setCookie);
          if (!match) continue;
          const [, name, value] = match as unknown as [string, string, string];
          if (value) c.jar.set(name, decodeURIComponent(value));
          else c.jar.delete(name);
          if (/^(__Host-)?tessera_session$/.test(name)) {
            c.cookie = value ? decodeURIComponent(value) : undefined;
            // A browser never sees its token in a payload; the tests that need it (to act as that session from
            // elsewhere) read it from the cookie.
            if (kind === 'cookie') c.token = c.cookie;
          }
        }
        const json = (await res.json()) as { data: any; errors?: GraphQLResponse['errors'] };
        const token = findSessionToken(json.data);
        if (token) c.token = token;
        return { status: res.status, headers: res.headers, data: json.data, errors: json.errors };
      },
    };
    return c;
  }
  return {
    app,
    url,
    clock,
    database,
    browser: () => client('cookie'),
    appClient: (token) => client('bearer', token),
    async close() {
      await running.close();
      await database.drop();
    },
  };
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(0, '127.0.0.1', () => resolve()); });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

function findSessionToken(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  for (const value of Object.values(data as Record<string, unknown>)) {
    if (value && typeof value === 'object' && typeof (value as { sessionToken?: unknown }).sessionToken === 'string') {
      return (value as { sessionToken: string }).sessionToken;
    }
  }
  return undefined;
}

/** Signs up a user through the API and returns a bearer client holding its session. */
export async function signedUpUser(server: TestServer, email: string, password = 'correct horse battery staple'): Promise<GraphQLClient & { email: string; password: string }> {
  const client = server.appClient();
  const res = await client.gql(`mutation($input: CredentialsInput!) { signup(input: $input) { __typename ... on AuthPayload { sessionToken } ... on Error { code message } } }`, { input: { email, password } });
  if (res.data?.signup?.__typename !== 'AuthPayload') throw new Error(`signup failed: ${JSON.stringify(res)}`);
  return Object.assign(client, { email, password });
}
