// The two client kinds of allauth's headless API: `browser` (session cookie + CSRF double submit) and `app`
// (X-Session-Token, no cookies), and the answers that guard sensitive changes: reauthentication (401 with the user and
// the reauthenticate flows), sessions, password change. Every answer is validated against /_allauth/openapi.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllauthClient, restApp, restBrowser } from '../../helpers/allauth.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { fastArgon, oathtool, PASSWORD, T0 } from '../totp/helpers.js';

describe('allauth headless: browser and app clients', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: fastArgon, now: new Date(T0) });
  });
  afterAll(() => server.close());

  it('refuses a browser POST without X-CSRFToken, with a wrong one, or from a foreign origin', async () => {
    const browser = await restBrowser(server);
    expect(browser.cookies.get('csrftoken')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const missing = await browser.post('/auth/signup', { email: 'csrf@example.com', password: PASSWORD }, { csrf: false });
    expect(missing.status).toBe(403);
    expect(missing.body.errors[0].code).toBe('csrf_failed');
    expect(browser.cookies.has('tessera_session')).toBe(false);
    const wrong = await browser.post('/auth/signup', { email: 'csrf@example.com', password: PASSWORD }, { csrf: false, headers: { 'x-csrftoken': 'A'.repeat(43) } });
    expect(wrong.status).toBe(403);
    const foreign = await browser.post('/auth/signup', { email: 'csrf@example.com', password: PASSWORD }, { headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    // Nothing was written: the address is still free.
    const ok = await browser.post('/auth/signup', { email: 'csrf@example.com', password: PASSWORD });
    expect(ok.status).toBe(200);
    expect(browser.cookies.get('tessera_session')).toEqual(expect.any(String));
    // Logout is unsafe too.
    expect((await browser.delete('/auth/session', undefined, { csrf: false })).status).toBe(403);
    expect((await browser.get('/auth/session')).status).toBe(200);
  });

  it('a browser without the csrftoken cookie is refused and handed one', async () => {
    const browser = new AllauthClient(server, 'browser');
    const first = await browser.post('/auth/login', { email: 'csrf@example.com', password: PASSWORD });
    expect(first.status).toBe(403);
    expect(browser.cookies.get('csrftoken')).toEqual(expect.any(String));
    expect((await browser.post('/auth/login', { email: 'csrf@example.com', password: PASSWORD })).status).toBe(200);
  });

  it('an app needs no CSRF token but needs its session token, and ignores cookies', async () => {
    const app = restApp(server);
    const signup = await app.post('/auth/signup', { email: 'app@example.com', password: PASSWORD });
    expect(signup.status).toBe(200);
    expect(signup.body.meta).toEqual({ is_authenticated: true, session_token: expect.any(String) });
    expect((await app.get('/account/authenticators')).status).toBe(200);

    const anonymousApp = restApp(server);
    const refused = await anonymousApp.get('/account/authenticators');
    expect(refused.status).toBe(401);
    expect(refused.body.data.flows).toContainEqual({ id: 'login' });

    // A browser's session cookie means nothing to the app endpoints.
    const browser = await restBrowser(server);
    await browser.post('/auth/login', { email: 'app@example.com', password: PASSWORD });
    const withCookie = await anonymousApp.get('/auth/session', { headers: { cookie: `tessera_session=${browser.cookies.get('tessera_session')}` } });
    expect(withCookie.status).toBe(401);
    // Nor does an app token in a browser request.
    const tokenInBrowser = await new AllauthClient(server, 'browser').get('/auth/session', { headers: { 'x-session-token': app.sessionToken! } });
    expect(tokenInBrowser.status).toBe(401);
  });

  it('asks for reauthentication with allauth\'s 401 (user and flows), by password or by code', async () => {
    const browser = await restBrowser(server);
    await browser.post('/auth/signup', { email: 'reauth@example.com', password: PASSWORD });
    const secret = (await browser.get('/account/authenticators/totp')).body.meta.secret;
    expect((await browser.post('/account/authenticators/totp', { code: await oathtool(secret, server.clock.now().getTime()) })).status).toBe(200);

    server.clock.advance(10 * 60_000);
    const stale = await browser.delete('/account/authenticators/totp');
    expect(stale.status).toBe(401);
    expect(stale.body.meta.is_authenticated).toBe(true);
    expect(stale.body.data.user.email).toBe('reauth@example.com');
    expect(stale.body.data.flows).toEqual([{ id: 'reauthenticate' }, { id: 'mfa_reauthenticate', types: ['totp', 'recovery_codes'] }]);
    expect((await browser.get('/account/authenticators/recovery-codes')).status).toBe(401);

    const wrong = await browser.post('/auth/reauthenticate', { password: 'wrong password here' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatchObject({ code: 'incorrect_password', param: 'password' });
    const byCode = await browser.post('/auth/2fa/reauthenticate', { code: await oathtool(secret, server.clock.now().getTime()) });
    expect(byCode.status).toBe(200);
    expect(byCode.body.data.methods.at(-1)).toMatchObject({ method: 'mfa', type: 'totp' });
    expect((await browser.get('/account/authenticators/recovery-codes')).status).toBe(200);
    const regenerated = await browser.post('/account/authenticators/recovery-codes');
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.data.unused_codes).toHaveLength(regenerated.body.data.total_code_count);
    expect((await browser.delete('/account/authenticators/totp')).status).toBe(200);
    expect((await browser.get('/account/authenticators/totp')).status).toBe(404);

    server.clock.advance(10 * 60_000);
    const byPassword = await browser.post('/auth/reauthenticate', { password: PASSWORD });
    expect(byPassword.status).toBe(200);
    expect(byPassword.body.data.methods.at(-1)).toMatchObject({ method: 'password', reauthenticated: true });
  });

  it('lists and ends sessions; changing the password ends the others', async () => {
    const first = restApp(server);
    await first.post('/auth/signup', { email: 'sessions@example.com', password: PASSWORD });
    const second = await restBrowser(server);
    await second.post('/auth/login', { email: 'sessions@example.com', password: PASSWORD });
    const third = restApp(server);
    await third.post('/auth/login', { email: 'sessions@example.com', password: PASSWORD });

    const list = await first.get('/auth/sessions');
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(3);
    expect(list.body.data.filter((s: { is_current: boolean }) => s.is_current)).toHaveLength(1);
    const thirdId = (await third.get('/auth/sessions')).body.data.find((s: { is_current: boolean }) => s.is_current).id;
    const ended = await first.delete('/auth/sessions', { sessions: [thirdId] });
    expect(ended.status).toBe(200);
    expect(ended.body.data).toHaveLength(2);
    expect((await third.get('/auth/session')).status).toBe(410);

    const wrong = await first.post('/account/password/change', { current_password: 'not my password', new_password: 'another long passphrase' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatchObject({ code: 'incorrect_password', param: 'current_password' });
    const changed = await first.post('/account/password/change', { current_password: PASSWORD, new_password: 'another long passphrase' });
    expect(changed.status).toBe(200);
    expect((await second.get('/auth/session')).status).toBe(401);
    expect((await first.get('/auth/sessions')).body.data).toHaveLength(1);

    const self = (await first.get('/auth/sessions')).body.data[0].id;
    const out = await first.delete('/auth/sessions', { sessions: [self] });
    expect(out.status).toBe(401);
  });

  it('answers unknown paths and methods in allauth\'s envelope', async () => {
    const app = restApp(server);
    expect((await app.get('/auth/code/request', { unchecked: true })).status).toBe(404);
    // 405 is no operation's answer (the method is not one of the path's operations): checked by shape here.
    const res = await fetch(`${server.url}/_allauth/app/v1/config`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({ status: 405 });
  });
});

describe('ALLAUTH_COMPAT_ENABLED=false', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, ALLAUTH_COMPAT_ENABLED: 'false' } });
  });
  afterAll(() => server.close());

  it('mounts nothing under /_allauth/', async () => {
    expect((await fetch(`${server.url}/_allauth/browser/v1/config`)).status).toBe(404);
    expect((await fetch(`${server.url}/_allauth/openapi.json`)).status).toBe(404);
  });
});

describe('request ids over REST', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('are minted by the server; a caller\'s X-Request-Id is kept as clientRequestId, never as the correlation id', async () => {
    const app = restApp(server);
    const res = await app.post('/auth/signup', { email: 'traced@example.com', password: 'correct horse battery staple' }, { headers: { 'x-request-id': 'frontend-trace-0042' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const events = await server.app.db.query<{ metadata: { correlationId: string; clientRequestId?: string } }>(`select metadata from events where metadata->>'clientRequestId' = 'frontend-trace-0042'`);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.metadata.correlationId === res.headers.get('x-request-id'))).toBe(true);
  });
});
