// Builds the reference web app (web/ → web/dist) when its sources changed since the last build, and does nothing
// otherwise: a hash of every input is kept in web/dist/.build-hash (a dotfile, so never served). It runs by itself
// after `npm install`/`npm ci` (the root package's postinstall), at `tessera serve` when web/dist is missing, and in the
// browser tests' setup, so nobody has to remember a build command. `--if-possible` (postinstall) skips quietly where
// Vite is not installed (a production install without dev dependencies, which ships a web/dist built elsewhere).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const webDir = join(root, 'web');
const distDir = join(webDir, 'dist');
const hashFile = join(distDir, '.build-hash');
const inputs = ['web/src', 'web/index.html', 'web/vite.config.ts', 'web/package.json', 'packages/client/src', 'packages/client/package.json', 'packages/react/src', 'packages/react/package.json', 'package-lock.json'];

function files(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => files(join(path, name)));
}

/** A hash of every file the build reads (names and contents). */
export function sourceHash() {
  const hash = createHash('sha256');
  for (const file of inputs.flatMap((input) => files(join(root, input)))) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

export function webBuildIsFresh() {
  return existsSync(join(distDir, 'index.html')) && existsSync(hashFile) && readFileSync(hashFile, 'utf8').trim() === sourceHash();
}

function viteBin() {
  const bin = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  return existsSync(bin) ? bin : undefined;
}

/**
 * Builds web/dist unless it is fresh. Resolves to 'fresh', 'built' or 'unavailable' (no Vite); rejects when the build
 * fails. Asynchronous (a child process), so a caller with open sockets keeps serving while it runs.
 */
export async function ensureWebBuild({ log = console.log } = {}) {
  if (webBuildIsFresh()) return 'fresh';
  const vite = viteBin();
  if (!vite || !existsSync(join(webDir, 'index.html'))) return 'unavailable';
  const hash = sourceHash();
  const started = Date.now();
  log('building the web app (web/ → web/dist)…');
  await new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: webDir, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`vite build exited with ${code}`))));
  });
  writeFileSync(hashFile, `${hash}\n`);
  log(`web app built in ${Date.now() - started} ms`);
  return 'built';
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifPossible = process.argv.includes('--if-possible');
  try {
    const outcome = await ensureWebBuild();
    if (outcome === 'fresh') console.log('web app: web/dist is up to date');
    if (outcome === 'unavailable') {
      console.log('web app: Vite is not installed here, web/dist not built');
      if (!ifPossible) process.exitCode = 1;
    }
  } catch (error) {
    console.error(`web app build failed: ${error instanceof Error ? error.message : error}`);
    // An install must not fail because the optional app did not build; a direct call must say so.
    if (!ifPossible) process.exitCode = 1;
  }
}
