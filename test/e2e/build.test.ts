// The production build: `npm run build` compiles src/ to dist/, and the server starts from the compiled output with
// plain `node` (what the Dockerfile runs), in production mode, and passes a smoke test over HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/server.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Runs a command to its end without blocking the event loop (no execSync: open keep-alive sockets would stall). */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${out}`))));
  });
}

describe('the compiled production build', () => {
  let database: TestDatabase;
  let dataDir: string;
  let server: ChildProcess;
  let output = '';
  let url: string;

  beforeAll(async () => {
    // Built here, so the test holds on a fresh clone where dist/ does not exist yet.
    await run(process.execPath, ['scripts/build.mjs']);
    database = await createTestDatabase({ poolSize: 1 });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-build-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['dist/cli.js', 'serve'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        TESSERA_SECRET_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        // Production refuses to start without the key that signs the audit checkpoints (base64 PKCS#8 here).
        AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
        // PostgreSQL when the suite has one; otherwise the embedded database in a fresh directory.
        DATABASE_URL: database.url ?? '',
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
      },
    });
    server.stdout!.on('data', (d) => (output += d));
    server.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<never>((_, reject) => server.once('exit', (code) => reject(new Error(`server exited ${code}: ${output}`))));
    const ready = (async () => {
      for (const started = Date.now(); Date.now() - started < 60_000; await new Promise((r) => setTimeout(r, 100))) {
        const res = await fetch(`${url}/readyz`).catch(() => undefined);
        if (res?.status === 200) return;
        await res?.body?.cancel();
      }
      throw new Error(`not ready after 60 s: ${output}`);
    })();
    await Promise.race([ready, exited]);
  }, 180_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await database?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function gql(query: string, variables: Record<string, unknown>, token?: string): Promise<{ headers: Headers; data: any }> {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tessera-client': 'app', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const json = (await res.json()) as { data: any; errors?: unknown };
    if (json.errors) throw new Error(JSON.stringify(json.errors));
    return { headers: res.headers, data: json.data };
  }

  it('copies the SQL migrations beside the compiled migrate.js', () => {
    expect(fs.readdirSync(path.join(root, 'dist/eventstore/migrations'))).toEqual(fs.readdirSync(path.join(root, 'src/eventstore/migrations')));
  });

  it('signs up, logs in and answers me from the compiled output', async () => {
    const credentials = { email: 'built@example.com', password: 'correct horse battery staple' };
    const auth = `__typename ... on AuthPayload { sessionToken authState { isAuthenticated } } ... on Error { code message }`;
    const signup = await gql(`mutation($input: CredentialsInput!) { signup(input: $input) { ${auth} } }`, { input: credentials });
    expect(signup.data.signup.__typename).toBe('AuthPayload');

    const login = await gql(`mutation($input: CredentialsInput!) { login(input: $input) { ${auth} } }`, { input: credentials });
    expect(login.data.login).toMatchObject({ __typename: 'AuthPayload', authState: { isAuthenticated: true } });
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");

    const me = await gql('{ me { email } }', {}, login.data.login.sessionToken);
    expect(me.data.me).toEqual({ email: credentials.email });
  });

  it('serves no GraphiQL in production', async () => {
    const res = await fetch(`${url}/graphiql/start.js`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
