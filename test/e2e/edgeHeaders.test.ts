// Safe defaults at the edge (issue 12), observed over HTTP as a browser or a proxy would see them: the security headers
// on every kind of response, no-store on everything that carries tokens or personal data, a real 404 for unknown
// paths, static files with long caching only for hashed assets, and HSTS only behind an https public origin.
import http from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { authenticateMfaMutation, fastArgon, loginMutation, meQuery, PASSWORD, pendingLogin, userWithTotp } from '../integration/totp/helpers.js';

/** The headers every response must carry, whatever answered it. */
function expectSecurityHeaders(headers: Headers, what: string): void {
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp, what).toContain("default-src 'self'");
  expect(csp, what).toContain("script-src 'self'");
  expect(csp, what).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
  expect(csp, what).toContain("object-src 'none'");
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).not.toMatch(/https?:\/\//); // no third-party origin anywhere in the policy
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(headers.get('x-frame-options'), what).toBe('DENY');
  expect(headers.get('permissions-policy'), what).toContain('publickey-credentials-get=(self)');
  expect(headers.get('permissions-policy'), what).toContain('publickey-credentials-create=(self)');
  expect(headers.get('x-powered-by'), what).toBeNull();
}

/** A raw request, for what fetch would not send as written (an undecoded `..`, a lying Content-Length). */
function rawRequest(url: string, options: { method: string; path: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = http.request({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port, method: options.method, path: options.path, headers: options.headers, agent: false }, (res) => {
      res.resume();
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
      resolve({ status: res.statusCode ?? 0, headers });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('edge defaults on a development server (http://localhost)', () => {
  let server: TestServer;
  let webRoot: string;

  beforeAll(async () => {
    // A stand-in for the reference web app's build: an index page and one content-hashed asset.
    webRoot = await mkdtemp(join(tmpdir(), 'tessera-web-'));
    await mkdir(join(webRoot, 'assets'));
    await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>Tessera</title><script type="module" src="/assets/app-3f2a9c1b.js"></script>');
    await writeFile(join(webRoot, 'assets', 'app-3f2a9c1b.js'), 'console.log("app");');
    await writeFile(join(webRoot, '.env'), 'SECRET=1');
    server = await startTestServer({ env: fastArgon, webRoot });
  });
  afterAll(async () => {
    await server?.close();
    if (webRoot) await rm(webRoot, { recursive: true, force: true });
  });

  it('puts the security headers on a GraphQL answer, with no-store and no HSTS on plain http', async () => {
    const res = await server.browser().gql('{ config { mfa { supportedTypes } } }');
    expect(res.status).toBe(200);
    expectSecurityHeaders(res.headers, 'GraphQL');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
  });

  it('answers unknown paths with a 404 that carries the headers', async () => {
    for (const path of ['/nope', '/index.htm', '/graphql/extra', '/health']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(404);
      expectSecurityHeaders(res.headers, path);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      await res.body?.cancel();
    }
  });

  it('puts the headers on 413 and 411 refusals', async () => {
    const tooLarge = await rawRequest(server.url, { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) } });
    expect(tooLarge.status).toBe(413);
    expectSecurityHeaders(tooLarge.headers, '413');
    expect(tooLarge.headers.get('cache-control')).toBe('no-store');
    const noLength = await rawRequest(server.url, { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    expect(noLength.status).toBe(411);
    expectSecurityHeaders(noLength.headers, '411');
  });

  it('puts the headers on /healthz, /readyz and the WebAuthn test page', async () => {
    for (const path of ['/healthz', '/readyz', '/webauthn-test.html']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expectSecurityHeaders(res.headers, path);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      await res.body?.cancel();
    }
  });

  it('serves the web app at `/` with the headers: hashed assets cached for a year, the page revalidated', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expectSecurityHeaders(index.headers, 'index.html');
    expect(await index.text()).toContain('<title>Tessera</title>');

    const asset = await fetch(`${server.url}/assets/app-3f2a9c1b.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectSecurityHeaders(asset.headers, 'asset');
    expect(await asset.text()).toBe('console.log("app");');
  });

  it('serves nothing outside the web root, and no dotfile', async () => {
    for (const path of ['/.env', '/%2e%2e/package.json', '/assets/%2e%2e/%2e%2e/package.json', '/..%2fpackage.json']) {
      const res = await rawRequest(server.url, { method: 'GET', path });
      expect(res.status, path).toBe(404);
      expectSecurityHeaders(res.headers, path);
    }
  });

  it("serves GraphiQL's files from our own origin, with the headers", async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expectSecurityHeaders(page.headers, 'GraphiQL page');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // no other origin referenced
    expect(html).not.toMatch(/<script>/); // no inline script: every script has a src
    for (const file of ['start.js', 'graphiql.js', 'graphiql.css', 'editor.worker.js', 'json.worker.js', 'graphql.worker.js', 'favicon.ico']) {
      const res = await fetch(`${server.url}/graphiql/${file}`);
      expect(res.status, file).toBe(200);
      expectSecurityHeaders(res.headers, file);
      expect(res.headers.get('etag'), file).toBeTruthy();
      await res.body?.cancel();
    }
    const revalidated = await fetch(`${server.url}/graphiql/start.js`, { headers: { 'if-none-match': (await fetch(`${server.url}/graphiql/start.js`)).headers.get('etag')! } });
    expect(revalidated.status).toBe(304);
  });

  it('marks login, authenticateMfa and me no-store (they carry tokens and personal data)', async () => {
    const user = await userWithTotp(server, 'edge@example.com');
    const login = await server.appClient().gql(loginMutation, { email: user.email, password: PASSWORD });
    expect(login.data.login.__typename).toBe('AuthPayload');
    expect(login.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(login.headers, 'login');

    const pending = await pendingLogin(server, user.email);
    const mfa = await pending.gql(authenticateMfaMutation, { code: user.recoveryCodes[0] });
    expect(mfa.data.authenticateMfa.__typename).toBe('AuthPayload');
    expect(mfa.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(mfa.headers, 'authenticateMfa');

    const me = await pending.gql(meQuery);
    expect(me.data.me.id).toBe(user.userId);
    expect(me.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(me.headers, 'me');
  });
});

describe('edge defaults behind an https public origin', () => {
  let server: TestServer;

  beforeAll(async () => {
    // No web app built: `/` is a 404 like any unknown path.
    server = await startTestServer({ env: { ...fastArgon, PUBLIC_ORIGIN: 'https://auth.example.com' }, webRoot: join(tmpdir(), 'tessera-no-web-app') });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('adds Strict-Transport-Security and upgrade-insecure-requests to every response', async () => {
    const graphql = await server.browser().gql('{ config { mfa { supportedTypes } } }');
    const missing = await fetch(`${server.url}/`);
    expect(missing.status).toBe(404);
    const health = await fetch(`${server.url}/healthz`);
    for (const [what, headers] of [['GraphQL', graphql.headers], ['404', missing.headers], ['healthz', health.headers]] as const) {
      expect(headers.get('strict-transport-security'), what).toBe('max-age=31536000; includeSubDomains');
      expect(headers.get('content-security-policy'), what).toContain('upgrade-insecure-requests');
      expectSecurityHeaders(headers, what);
    }
  });
});
