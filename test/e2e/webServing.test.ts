// How `tessera serve` serves the web app's build: files, the SPA fallback (index.html for a page load of an app
// route, never for the API, a missing asset or a non-HTML request), and SERVE_WEB=false switching all of it off.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('serving web/dist', () => {
  let webRoot: string;
  let server: TestServer;
  let off: TestServer;
  const page = { headers: { accept: 'text/html,application/xhtml+xml' } };

  beforeAll(async () => {
    webRoot = await mkdtemp(path.join(tmpdir(), 'tessera-webroot-'));
    await mkdir(path.join(webRoot, 'assets'));
    await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>app</title><div id="root"></div>');
    await writeFile(path.join(webRoot, 'assets', 'app-1234.js'), 'console.log(1)');
    server = await startTestServer({ webRoot });
    off = await startTestServer({ webRoot, env: { SERVE_WEB: 'false' } });
  });
  afterAll(async () => {
    await server?.close();
    await off?.close();
    await rm(webRoot, { recursive: true, force: true });
  });

  it('serves index.html for app routes a browser navigates to, revalidated, under the CSP', async () => {
    for (const route of ['/', '/login', '/mfa/verify', '/settings/security']) {
      const res = await fetch(`${server.url}${route}`, page);
      expect(res.status, route).toBe(200);
      expect(await res.text()).toContain('<div id="root">');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    const asset = await fetch(`${server.url}/assets/app-1234.js`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('keeps 404s for non-page requests, missing files, assets, dotfiles and the API', async () => {
    expect((await fetch(`${server.url}/login`, { headers: { accept: 'application/json' } })).status).toBe(404);
    expect((await fetch(`${server.url}/assets/gone-9999.js`, page)).status).toBe(404);
    expect((await fetch(`${server.url}/favicon.ico`, page)).status).toBe(404);
    expect((await fetch(`${server.url}/graphql/extra`, page)).status).toBe(404);
    expect((await fetch(`${server.url}/login`, { method: 'POST', headers: { 'content-length': '0', ...page.headers } })).status).toBe(404);
  });

  it('SERVE_WEB=false serves nothing at / (a team with its own frontend)', async () => {
    expect((await fetch(`${off.url}/`, page)).status).toBe(404);
    expect((await fetch(`${off.url}/assets/app-1234.js`)).status).toBe(404);
    expect((await fetch(`${off.url}/healthz`)).status).toBe(200);
  });
});
