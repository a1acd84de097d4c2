// The web side's budgets (issue 15), measured, not asserted: the gzipped size of packages/client bundled alone
// (minified, with what it pulls in: gql.tada's runtime, the GraphQL printer, @simplewebauthn/browser; goal ≤ 15 kB),
// the gzipped size of the reference app's initial JavaScript (every script index.html loads; goal ≤ 150 kB), and the
// time from `npm start` to the first page served at `/` (web/dist already built, as after `npm install`), on the
// scenario's PostgreSQL database and on the embedded database in a fresh directory (what a newcomer gets).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { ensureWebBuild } from '../../scripts/build-web.mjs';
import { freePort } from '../../test/helpers/server.js';
import { median, type Measurement, type Scenario } from '../types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const kB = (bytes: number): number => Math.round(bytes / 102.4) / 10;

async function clientBundleGzip(): Promise<{ raw: number; gzip: number }> {
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    root,
    build: {
      write: false,
      minify: true,
      lib: { entry: path.join(root, 'packages/client/src/index.ts'), formats: ['es'], fileName: 'client' },
    },
  });
  const outputs = (Array.isArray(output) ? output : [output]) as Array<{ output: Array<{ type: string; code?: string }> }>;
  const code = outputs.flatMap((o) => o.output).filter((chunk) => chunk.type === 'chunk').map((chunk) => chunk.code ?? '').join('\n');
  return { raw: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}

function appInitialJsGzip(): { raw: number; gzip: number; files: number } {
  const dist = path.join(root, 'web/dist');
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="([^"]+\.js)"/g)].map((m) => m[1]!);
  let raw = 0;
  let gzip = 0;
  for (const src of scripts) {
    const code = readFileSync(path.join(dist, src));
    raw += code.length;
    gzip += gzipSync(code, { level: 9 }).length;
  }
  return { raw, gzip, files: scripts.length };
}

/** `npm start` until `/` answers 200 with the app's HTML; the whole process group is stopped afterwards. */
async function startToFirstPage(env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: root,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'development', ...env },
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}`);
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: 'text/html', connection: 'close' } }).catch(() => undefined);
      if (res?.status === 200 && (await res.text()).includes('<div id="root">')) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

const scenario: Scenario = {
  name: 'web',
  description: 'packages/client and the web app\'s initial JS (gzipped), npm start → first page at /',
  ratios: [],
  async run(ctx) {
    await ensureWebBuild({ log: ctx.log });
    const client = await clientBundleGzip();
    const app = appInitialJsGzip();
    ctx.log(`client ${kB(client.gzip)} kB gzipped (${kB(client.raw)} kB minified); app initial JS ${kB(app.gzip)} kB gzipped in ${app.files} file(s) (${kB(app.raw)} kB minified)`);
    const postgresRuns: number[] = [];
    const embeddedRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      postgresRuns.push(await startToFirstPage({ DATABASE_URL: ctx.databaseUrl }));
      const dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-bench-web-'));
      try {
        embeddedRuns.push(await startToFirstPage({ DATABASE_URL: '', DATA_DIR: dataDir }));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    const measurements: Measurement[] = [
      { metric: 'client_gzip_kB', value: kB(client.gzip), unit: 'kB' },
      { metric: 'app_initial_js_gzip_kB', value: kB(app.gzip), unit: 'kB' },
      { metric: 'npm_start_to_first_page_postgres_ms', value: median(postgresRuns), unit: 'ms', samples: postgresRuns },
      { metric: 'npm_start_to_first_page_embedded_ms', value: median(embeddedRuns), unit: 'ms', samples: embeddedRuns },
    ];
    return measurements;
  },
};

export default scenario;
