// `npm start` on a bare machine: the embedded database under DATA_DIR keeps everything across a normal stop.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-embedded-'));
const port = 4300 + Math.floor(Math.random() * 500);

function startServer(): Promise<{ child: ChildProcess; output: () => string }> {
  // No DATABASE_URL: the server must choose PGlite under DATA_DIR by itself.
  const env = { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', NODE_ENV: 'development' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    child.stdout!.on('data', () => {
      if (out.includes('tessera listening')) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

async function gql(query: string, token?: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tessera-csrf': '1', 'x-tessera-client': 'app', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await res.json()).data;
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

describe('the embedded database (npm start with no DATABASE_URL)', () => {
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('keeps accounts and the log across SIGTERM and SIGINT restarts', async () => {
    const first = await startServer();
    expect(first.output()).toContain('"database":"pglite"');
    const signup = await gql(`mutation { signup(input: { email: "laptop@example.com", password: "correct horse battery" }) { __typename } }`);
    expect(signup.signup.__typename).toBe('AuthPayload');
    expect(await stop(first.child, 'SIGTERM')).toBe(0);
    expect(first.output()).toContain('shutting down');

    const second = await startServer();
    const login = await gql(`mutation { login(input: { email: "laptop@example.com", password: "correct horse battery" }) { __typename ... on AuthPayload { sessionToken } } }`);
    expect(login.login.__typename).toBe('AuthPayload');
    const me = await gql(`{ me { email } }`, login.login.sessionToken);
    expect(me.me.email).toBe('laptop@example.com');
    expect(await stop(second.child, 'SIGINT')).toBe(0);

    const third = await startServer();
    const again = await gql(`mutation { login(input: { email: "laptop@example.com", password: "correct horse battery" }) { __typename } }`);
    expect(again.login.__typename).toBe('AuthPayload');
    expect(await stop(third.child, 'SIGTERM')).toBe(0);
  });
});
