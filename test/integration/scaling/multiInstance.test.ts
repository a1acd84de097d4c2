// Three server processes on one PostgreSQL and one Redis behind a round-robin proxy (issue 20 item 5): 30 s of mixed
// load (password + TOTP logins, passkey logins with the soft authenticator, queries, an attacker's wrong codes), and
// one instance killed with SIGKILL in the middle. Afterwards:
// - every acknowledged mutation's events are in the log (each response's x-request-id is the events' requestId),
// - no login flow completed twice and no session was started twice,
// - the attacker's failures on the victim, spread over the three instances, stayed within ONE account budget,
// - `tessera audit verify` passes, and projections rebuilt from the log equal the live ones.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { generateTotpCode } from '../../../src/crypto/totp.js';
import { liveSchema } from '../../../src/projections/index.js';
import { failureEventTypes } from '../../../src/projections/accountFailures.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../../fixtures/softAuthenticator.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { freePort } from '../../helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const loadSeconds = Number(process.env.MULTI_INSTANCE_SECONDS ?? 30);
const accountBudget = 5;
const PASSWORD = 'multi instance password 1234';

interface Instance { port: number; child: ChildProcess; exited: Promise<void>; stderr: string }

function startInstance(env: Record<string, string>, port: number): Instance {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: root, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const instance: Instance = { port, child, stderr: '', exited: new Promise((resolve) => child.once('exit', () => resolve())) };
  child.stderr!.on('data', (chunk: Buffer) => { instance.stderr += chunk.toString(); });
  return instance;
}

async function waitHealthy(instance: Instance): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (instance.child.exitCode !== null) throw new Error(`instance on ${instance.port} exited: ${instance.stderr}`);
    const ok = await fetch(`http://127.0.0.1:${instance.port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`instance on ${instance.port} did not start: ${instance.stderr}`);
}

/**
 * Round robin over the backends. A request is retried on the next backend only when the connection was refused (the
 * backend is gone and nothing was delivered); one cut off mid-flight is answered 502, as a load balancer would.
 */
function startProxy(ports: number[], listenPort: number): Promise<{ server: http.Server; port: number }> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const attempt = (tries: number): void => {
        const port = ports[next++ % ports.length]!;
        const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNREFUSED' && tries < ports.length) return attempt(tries + 1);
          if (!res.headersSent) res.writeHead(502).end();
          else res.destroy();
        });
        upstream.end(body);
      };
      attempt(1);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve({ server, port: listenPort }));
  });
}

describe('three instances, one PostgreSQL, one Redis, one killed mid-run', () => {
  let t: TestDatabase;
  let proxy: { server: http.Server; port: number };
  const instances: Instance[] = [];
  let env: Record<string, string>;
  let dataDir: string;
  let emailHash: (email: string) => string;

  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-multi-'));
    const proxyPort = await freePort();
    env = {
      NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: t.url ?? '', DATA_DIR: dataDir, SERVE_WEB: 'false', HOST: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `tessera-multi-${randomBytes(4).toString('hex')}`,
      PUBLIC_ORIGIN: `http://localhost:${proxyPort}`, ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1',
      TESSERA_SECRET_KEYS: `multi:${randomBytes(32).toString('base64')}`,
      AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      AUDIT_CHECKPOINT_SECONDS: '2',
      // The account budget is the binding limit here (the lockout's back-off and lock are far away), and the shared
      // address (every client is 127.0.0.1 behind the proxy) is not.
      ATTEMPTS_PER_ACCOUNT: String(accountBudget), LOCKOUT_BACKOFF_AFTER: '40', LOCKOUT_LOCK_AFTER: '40', LOCKOUT_HARD_LIMIT: '40',
      ATTEMPTS_PER_IP: '1000000', ANONYMOUS_WRITES_PER_IP: '1000000',
    };
    if (!t.url) return;
    // Migrate and create the projections once, before three processes start on the database.
    const setup = await createApp({ config: loadConfig(env), db: t.reopen(), env });
    // The users projection keeps a keyed hash of the email, not the email (the keys are the instances' keys).
    emailHash = setup.personalData.hashes.email;
    await setup.close();
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) instances.push(startInstance(env, port));
    await Promise.all(instances.map(waitHealthy));
    // On the port PUBLIC_ORIGIN names: WebAuthn checks the origin.
    proxy = await startProxy(ports, proxyPort);
  }, 180_000);

  afterAll(async () => {
    for (const instance of instances) if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGTERM');
    await Promise.all(instances.map((i) => i.exited));
    proxy?.server.close();
    await t?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('keeps every acknowledged mutation, one session per login, one budget, a verifiable log and rebuildable projections', async (ctx) => {
    if (!t.url) ctx.skip();
    const url = `http://127.0.0.1:${proxy.port}/graphql`;
    // Acknowledged mutations by what they must have left in the log: events under their request id, or none at all (a
    // refusal changes nothing). Some answers may go either way (a second MFA step on a flow that just completed).
    const acknowledged = { writes: [] as string[], none: [] as string[] };
    type Writes = 'writes' | 'none' | 'any';
    const counts = new Map<string, number>();
    const tally = (what: string): void => void counts.set(what, (counts.get(what) ?? 0) + 1);
    /** One mutation or query through the proxy; a 200 with data is acknowledged and its request id kept. */
    async function call(query: string, variables: Record<string, unknown>, auth: { token?: string | null; device?: string }, writes: Writes | ((data: any) => Writes) = 'writes'): Promise<any | null> {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tessera-client': 'app', 'x-tessera-csrf': '1' };
      if (auth.token) headers.authorization = `Bearer ${auth.token}`;
      if (auth.device) headers['x-tessera-device'] = auth.device;
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      } catch {
        tally('network error');
        return null;
      }
      if (res.status !== 200) {
        tally(`http ${res.status}`);
        await res.body?.cancel();
        return null;
      }
      const json = (await res.json()) as { data?: any; errors?: unknown };
      if (!json.data || json.errors) throw new Error(`unexpected answer: ${JSON.stringify(json)}`);
      const expected = typeof writes === 'function' ? writes(json.data) : writes;
      if (expected !== 'any') acknowledged[expected].push(res.headers.get('x-request-id')!);
      return json.data;
    }
    const SIGNUP = `mutation($i: CredentialsInput!) { signup(input: $i) { __typename ... on AuthPayload { sessionToken deviceToken } ... on Error { code } } }`;
    const LOGIN = `mutation($i: CredentialsInput!) { login(input: $i) { __typename ... on AuthPayload { sessionToken deviceToken authState { flows { id } } } ... on Error { code } } }`;
    const MFA = `mutation($c: String!) { authenticateMfa(input: { code: $c }) { __typename ... on AuthPayload { sessionToken } ... on Error { code } } }`;
    const BEGIN = `mutation($p: WebAuthnPurpose!) { beginWebAuthnAuthentication(input: { purpose: $p }) { __typename ... on WebAuthnRequestOptions { requestOptions ceremonyToken } ... on Error { code } } }`;
    const PASSKEY = `mutation($c: JSON!, $t: String) { loginWithPasskey(input: { credential: $c, ceremonyToken: $t }) { __typename ... on AuthPayload { sessionToken } ... on Error { code } } }`;
    const ME = `{ me { id sessions { id } } }`;
    /** An answer that refused before verifying anything writes nothing; any other verdict is recorded. */
    const byCode = (field: string) => (data: any): Writes => {
      const code = data[field]?.code as string | undefined;
      if (code === 'RATE_LIMITED' || code === 'ACCOUNT_LOCKED') return 'none';
      if (code === 'FLOW_NOT_PENDING' || code === 'FLOW_EXPIRED') return 'any';
      return 'writes';
    };

    // Setup through the proxy: TOTP users, plain users, passkey users, and the attacker's victim.
    const signup = async (email: string): Promise<{ email: string; token: string; device: string }> => {
      const data = await call(SIGNUP, { i: { email, password: PASSWORD } }, {});
      if (data?.signup.__typename !== 'AuthPayload') throw new Error(`signup ${email}: ${JSON.stringify(data)}`);
      return { email, token: data.signup.sessionToken, device: data.signup.deviceToken };
    };
    const totpUsers = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const u = await signup(`totp${i}@multi.example`);
      const secret: string = (await call(`mutation { setupTotp { ... on TotpSetup { secret } } }`, {}, u)).setupTotp.secret;
      const activated = await call(`mutation($c: String!) { activateTotp(input: { code: $c }) { __typename } }`, { c: await generateTotpCode({ secret, nowMs: Date.now() }) }, u);
      if (activated?.activateTotp.__typename !== 'ActivateTotpPayload') throw new Error(JSON.stringify(activated));
      return { ...u, secret, lastStep: Math.floor(Date.now() / 30_000) };
    }));
    const plainUsers = await Promise.all(Array.from({ length: 4 }, (_, i) => signup(`plain${i}@multi.example`)));
    const origin = env.PUBLIC_ORIGIN!;
    const passkeyUsers = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
      const u = await signup(`passkey${i}@multi.example`);
      const begun = await call(`mutation { beginWebAuthnRegistration(input: { passwordless: true }) { ... on WebAuthnCreationOptions { creationOptions } ... on Error { code } } }`, {}, u, 'any');
      const key: SoftAuthenticator = createSoftAuthenticator({ origin, rpId: 'localhost' });
      const registered = await call(`mutation($c: JSON!) { registerWebAuthn(input: { name: "key", credential: $c }) { __typename ... on Error { code } } }`, { c: key.register(begun.beginWebAuthnRegistration.creationOptions) }, u);
      if (registered?.registerWebAuthn.__typename !== 'RegisterWebAuthnPayload') throw new Error(JSON.stringify(registered));
      return { ...u, key };
    }));
    const victim = totpUsers.pop()!;
    const [victimRow] = await t.db.query<{ user_id: string }>(`select user_id from proj.users where email_hash = $1`, [emailHash(victim.email)]);

    const until = Date.now() + loadSeconds * 1000;
    const killAt = Date.now() + (loadSeconds * 1000) / 2;
    const workers: Array<Promise<void>> = [];
    // Password + TOTP logins: a user's code once per 30 s step (a second use would be a replay), and now and then the
    // MFA step sent twice at once, which must not give two sessions. Between them, plain logins and queries.
    for (let w = 0; w < 3; w++) {
      workers.push((async () => {
        let i = w;
        while (Date.now() < until) {
          const user = totpUsers[i++ % totpUsers.length]!;
          const step = Math.floor(Date.now() / 30_000);
          if (step > user.lastStep) {
            user.lastStep = step;
            const login = await call(LOGIN, { i: { email: user.email, password: PASSWORD } }, { device: user.device }, byCode('login'));
            if (login?.login.__typename !== 'AuthPayload') continue;
            const code = await generateTotpCode({ secret: user.secret, nowMs: Date.now() });
            const twice = i % 2 === 0;
            const answers = await Promise.all((twice ? [1, 2] : [1]).map(() => call(MFA, { c: code }, { token: login.login.sessionToken, device: user.device }, byCode('authenticateMfa'))));
            for (const a of answers) tally(`mfa ${a?.authenticateMfa.__typename === 'AuthPayload' ? 'ok' : a?.authenticateMfa.code ?? 'lost'}`);
          } else {
            const plain = plainUsers[i % plainUsers.length]!;
            const login = await call(LOGIN, { i: { email: plain.email, password: PASSWORD } }, { device: plain.device }, byCode('login'));
            tally(`password ${login?.login.__typename ?? 'lost'}`);
            if (login?.login.sessionToken) await call(ME, {}, { token: login.login.sessionToken, device: plain.device }, 'any');
          }
        }
      })());
    }
    // Passkey logins, each followed by a query with the new session.
    for (let w = 0; w < 2; w++) {
      workers.push((async () => {
        let i = 0;
        while (Date.now() < until) {
          // Each worker its own authenticators: one key used twice at once would be a counter race (CLONE_SUSPECTED).
          const user = passkeyUsers[w + 2 * (i++ % 2)]!;
          // Options: a challenge row, not an event.
          const begun = await call(BEGIN, { p: 'PASSKEY_LOGIN' }, { device: user.device }, 'any');
          if (!begun?.beginWebAuthnAuthentication.requestOptions) continue;
          const done = await call(PASSKEY, { c: user.key.assert(begun.beginWebAuthnAuthentication.requestOptions), t: begun.beginWebAuthnAuthentication.ceremonyToken }, { device: user.device }, byCode('loginWithPasskey'));
          tally(`passkey ${done?.loginWithPasskey.__typename === 'AuthPayload' ? 'ok' : done?.loginWithPasskey.code ?? 'lost'}`);
          if (done?.loginWithPasskey.sessionToken) await call(ME, {}, { token: done.loginWithPasskey.sessionToken, device: user.device }, 'any');
        }
      })());
    }
    // The attacker: the victim's password, but wrong codes, from a device the victim never used (the shared bucket).
    workers.push((async () => {
      while (Date.now() < until) {
        const login = await call(LOGIN, { i: { email: victim.email, password: PASSWORD } }, {}, byCode('login'));
        const token = login?.login.sessionToken;
        if (!token) {
          tally(`attacker login ${login?.login.code ?? 'lost'}`);
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const answer = await call(MFA, { c: '000000' === (await generateTotpCode({ secret: victim.secret, nowMs: Date.now() })) ? '111111' : '000000' }, { token }, byCode('authenticateMfa'));
        tally(`attacker ${answer?.authenticateMfa.code ?? 'lost'}`);
      }
    })());
    // The kill, half-way through.
    const killed = (async () => {
      await new Promise((r) => setTimeout(r, Math.max(0, killAt - Date.now())));
      instances[1]!.child.kill('SIGKILL');
      await instances[1]!.exited;
    })();
    await Promise.all([...workers, killed]);
    expect(instances[1]!.child.signalCode).toBe('SIGKILL');
    // The others stop cleanly (in-flight requests finish, the notification worker and checkpointer stop).
    for (const i of [instances[0]!, instances[2]!]) i.child.kill('SIGTERM');
    await Promise.all(instances.map((i) => i.exited));
    console.log(`multi-instance load: ${acknowledged.writes.length} acknowledged mutations that write, ${acknowledged.none.length} refusals`, Object.fromEntries(counts));

    // Enough of each kind happened for the checks below to mean something.
    expect(counts.get('mfa ok') ?? 0).toBeGreaterThanOrEqual(3);
    expect(counts.get('passkey ok') ?? 0).toBeGreaterThanOrEqual(10);
    expect(counts.get('password AuthPayload') ?? 0).toBeGreaterThanOrEqual(10);

    // Every acknowledged mutation's events are in the log under its request id (metadata.requestId; the correlation id
    // is the login flow's for the requests of a login); every refusal wrote nothing.
    const logged = new Set((await t.db.query<{ c: string }>(`select distinct metadata->>'requestId' as c from events`)).map((r) => r.c));
    expect(acknowledged.writes.length).toBeGreaterThan(100);
    expect(acknowledged.writes.filter((id) => !logged.has(id))).toEqual([]);
    expect(acknowledged.none.filter((id) => logged.has(id))).toEqual([]);

    // No login flow completed twice, no session started twice, every completed login has its session.
    expect(await t.db.query(`select stream_id from events where type = 'LoginCompleted' group by stream_id having count(*) > 1`)).toEqual([]);
    expect(await t.db.query(`select data->>'sessionId' from events where type = 'LoginCompleted' group by 1 having count(*) > 1`)).toEqual([]);
    expect(await t.db.query(`select stream_id from events where type = 'SessionStarted' group by stream_id having count(*) > 1`)).toEqual([]);
    expect(await t.db.query(`select l.data->>'sessionId' from events l where l.type = 'LoginCompleted'
      and not exists (select 1 from events s where s.type = 'SessionStarted' and s.stream_id = 'session-' || (l.data->>'sessionId'))`)).toEqual([]);

    // The attacker's failures on the victim, over three instances: within one account budget (shared in Redis).
    const [failures] = await t.db.query<{ n: number }>(
      `select count(*)::int as n from events where type = any($1::text[]) and data->>'userId' = $2 and metadata->>'attemptBucket' = 'untrusted'`,
      [[...failureEventTypes], victimRow!.user_id],
    );
    expect(failures!.n).toBeGreaterThan(0);
    expect(failures!.n).toBeLessThanOrEqual(accountBudget);
    // …and the budget said no to the rest (at the password or at the code, whichever came next).
    expect((counts.get('attacker RATE_LIMITED') ?? 0) + (counts.get('attacker login RATE_LIMITED') ?? 0)).toBeGreaterThan(0);

    // The audit log verifies (the CLI, run asynchronously), and the projections rebuilt from the log equal the live ones.
    const verify = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', 'verify'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
      child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, out }));
    });
    expect(verify.out).toContain('"ok":true');
    expect(verify.code).toBe(0);
    const app = await createApp({ config: loadConfig(env), db: t.reopen(), env });
    try {
      await app.projections.buildCopy('multi_copy');
      expect(await app.projections.compare('multi_copy', liveSchema)).toEqual([]);
      await app.db.query(`drop schema multi_copy cascade`);
    } finally {
      await app.close();
    }
  }, 240_000);
});

