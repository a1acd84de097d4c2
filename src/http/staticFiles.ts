// Static files from one directory: where the reference web app (a `web/dist` build) is served at `/`. Everything
// else about it (security headers, the 404 for a missing file) is the server's, so this stays a file lookup.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type http from 'node:http';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** The web app's build output, beside `src/` (and beside `dist/` once compiled: both are one level below the root). */
export const defaultWebRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export type StaticFiles = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => Promise<boolean>;

/**
 * Serves `root/<pathname>` (`/` is `index.html`) for GET and HEAD, and answers whether it did. A missing directory
 * serves nothing. Only files under `/assets/` are cached for long, because only they carry a content hash in their
 * name (a bundler's output); anything else, `index.html` first, is revalidated so a deploy shows at once.
 */
export function createStaticFiles(root: string, options: { spaFallback?: boolean } = {}): StaticFiles {
  const base = path.resolve(root);
  return async (req, res, pathname) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const relative = safeRelativePath(pathname === '/' ? '/index.html' : pathname);
    let file = relative === undefined ? undefined : path.join(base, relative);
    let stat = file === undefined ? undefined : await fs.promises.stat(file).catch(() => undefined);
    if (!stat?.isFile() && options.spaFallback && isAppNavigation(req, pathname)) {
      file = path.join(base, 'index.html');
      stat = await fs.promises.stat(file).catch(() => undefined);
    }
    if (file === undefined || !stat?.isFile()) return false;
    const fileRelative = path.relative(base, file);
    const immutable = fileRelative.startsWith(`assets${path.sep}`);
    res.writeHead(200, {
      'content-type': contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((resolve) => {
      fs.createReadStream(file).on('error', () => { res.destroy(); resolve(); }).pipe(res).on('finish', resolve).on('close', resolve);
    });
    return true;
  };
}

/**
 * SPA fallback: a browser navigating to one of the app's routes (`/login`, `/settings/security`) gets `index.html`, and
 * the app's router draws the page. Only for page loads (Accept: text/html) of paths that are not the API's or a
 * missing asset's, so a mistyped script URL or API path stays a 404 instead of HTML with status 200.
 */
function isAppNavigation(req: http.IncomingMessage, pathname: string): boolean {
  if (!(req.headers.accept ?? '').includes('text/html')) return false;
  if (pathname === '/graphql' || pathname.startsWith('/graphql/') || pathname.startsWith('/graphiql/') || pathname.startsWith('/assets/')) return false;
  // A path with a file extension names a file; it is missing, not a route.
  return !/\.[A-Za-z0-9]{1,8}$/.test(pathname);
}

/**
 * The path below the root, or undefined for anything that could leave it or reveal what should stay hidden: `..`
 * (plain or percent-encoded), backslashes, NUL, dotfiles (`.env`, `.git`).
 */
function safeRelativePath(pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => s.startsWith('.'))) return undefined;
  return segments.join(path.sep);
}
