// Start-up time to a 200 from /readyz, and resident memory (VmRSS of the server process), for the TypeScript run
// through tsx and for the compiled build, both in production mode on one database. Linux only (reads /proc).
//   npm run build && DATABASE_URL=postgres://… node scripts/measure-startup.mjs [runs]
// DATABASE_URL unset: the embedded database in a fresh directory per run (then PGlite's opening dominates).
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 5);
const modes = { tsx: ['--import', 'tsx', 'src/cli.ts', 'serve'], compiled: ['dist/cli.js', 'serve'] };
const key = `k1:${randomBytes(32).toString('base64')}`;
const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function once(mode, port) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-startup-'));
  const started = performance.now();
  const child = spawn(process.execPath, modes[mode], {
    stdio: 'ignore',
    env: { ...process.env, NODE_ENV: 'production', TESSERA_SECRET_KEYS: key, AUDIT_SIGNING_KEY: signingKey, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATA_DIR: dataDir },
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${mode} exited ${child.exitCode}`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { headers: { connection: 'close' } }).catch(() => undefined);
      if (res?.status === 200) break;
      await sleep(20);
    }
    const readyMs = performance.now() - started;
    const readyRss = rssMiB(child.pid);
    // Some work, so the memory includes the GraphQL schema and the code paths a request walks.
    const post = (query, token) => fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST', body: JSON.stringify({ query }),
      headers: { 'content-type': 'application/json', 'x-tessera-client': 'app', connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }).then((r) => r.json());
    const email = `m${randomBytes(6).toString('hex')}@example.com`;
    await post(`mutation { signup(input: { email: "${email}", password: "correct horse battery staple" }) { __typename } }`);
    const login = await post(`mutation { login(input: { email: "${email}", password: "correct horse battery staple" }) { ... on AuthPayload { sessionToken } } }`);
    for (let i = 0; i < 50; i++) await post('{ me { email } }', login.data.login.sessionToken);
    return { readyMs, readyRss, workRss: rssMiB(child.pid) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const results = { tsx: [], compiled: [] };
for (let i = 0; i < runs; i++) for (const mode of Object.keys(modes)) results[mode].push(await once(mode, 4600 + i));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [mode, rs] of Object.entries(results)) {
  console.log(`${mode.padEnd(9)} ready ${median(rs.map((r) => r.readyMs)).toFixed(0)} ms (min ${Math.min(...rs.map((r) => r.readyMs)).toFixed(0)}), RSS at ready ${median(rs.map((r) => r.readyRss)).toFixed(1)} MiB, after signup+login+50 me ${median(rs.map((r) => r.workRss)).toFixed(1)} MiB  (median of ${rs.length})`);
}
