// The seed's tests over allauth's headless API (issue 16), with allauth's status codes: a password login of a user
// with TOTP answers 401 with the pending mfa_authenticate flow (the seed asserted 200; allauth's clients rely on the
// 401), a TOTP code or a recovery code completes it, and a replayed code is refused with allauth's error objects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllauthClient, restApp, restBrowser, validatorFor } from '../../helpers/allauth.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { fastArgon, oathtool, PASSWORD, T0 } from '../totp/helpers.js';

describe('allauth headless: login with TOTP and recovery codes', () => {
  let server: TestServer;
  const email = 'seed@example.com';
  let secret: string;

  beforeAll(async () => {
    server = await startTestServer({ env: fastArgon, now: new Date(T0) });
  });
  afterAll(() => server.close());

  async function login(client: AllauthClient) {
    return client.post('/auth/login', { email, password: PASSWORD });
  }

  it('serves config and sets the csrftoken cookie a page script can read', async () => {
    const res = await fetch(`${server.url}/_allauth/browser/v1/config`);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('csrftoken='))!;
    expect(cookie).toBeDefined();
    expect(cookie).not.toMatch(/HttpOnly/i);
    const body = await res.json();
    (await validatorFor(server)).check('GET', res.url, res.status, body);
    expect(body.data.mfa.supported_types).toEqual(['totp', 'webauthn', 'recovery_codes']);
    // The app client gets no cookie at all.
    const app = await fetch(`${server.url}/_allauth/app/v1/config`);
    expect(app.headers.getSetCookie()).toEqual([]);
    (await validatorFor(server)).check('GET', app.url, app.status, await app.json());
  });

  it('sets up TOTP: 404 with a secret and URL, activation with an oathtool code, then 200', async () => {
    const browser = await restBrowser(server);
    const signup = await browser.post('/auth/signup', { email, password: PASSWORD });
    expect(signup.status).toBe(200);
    expect(signup.body.data.user.email).toBe(email);
    expect(signup.body.meta).toEqual({ is_authenticated: true });

    const status = await browser.get('/account/authenticators/totp');
    expect(status.status).toBe(404);
    secret = status.body.meta.secret;
    expect(status.body.meta.totp_url).toMatch(/^otpauth:\/\/totp\//);
    expect(status.body.meta.totp_url).toContain(`secret=${secret}`);
    // Asked again (a reload, a page rendered twice), it shows the same secret, as allauth does.
    expect((await browser.get('/account/authenticators/totp')).body.meta.secret).toBe(secret);

    const wrong = await browser.post('/account/authenticators/totp', { code: '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatchObject({ code: 'incorrect_code', param: 'code' });

    const activated = await browser.post('/account/authenticators/totp', { code: await oathtool(secret, server.clock.now().getTime()) });
    expect(activated.status).toBe(200);
    expect(activated.body.data.type).toBe('totp');
    expect(activated.body.meta.recovery_codes_generated).toBe(true);

    const again = await browser.get('/account/authenticators/totp');
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ type: 'totp', created_at: T0 / 1000 });

    const list = await browser.get('/account/authenticators');
    expect(list.body.data.map((a: { type: string }) => a.type).sort()).toEqual(['recovery_codes', 'totp']);
  });

  it('answers the login with 401 and the pending mfa_authenticate flow; a TOTP code completes it', async () => {
    server.clock.advance(60_000);
    const browser = await restBrowser(server);
    const pending = await login(browser);
    expect(pending.status).toBe(401);
    expect(pending.body.meta.is_authenticated).toBe(false);
    expect(pending.body.data.flows).toContainEqual({ id: 'mfa_authenticate', is_pending: true, types: ['totp', 'recovery_codes'] });
    expect(pending.body.data.flows).toContainEqual({ id: 'login' });

    // The session endpoint says the same until the step is done.
    const session = await browser.get('/auth/session');
    expect(session.status).toBe(401);
    expect(session.body.data.flows).toContainEqual(expect.objectContaining({ id: 'mfa_authenticate', is_pending: true }));

    const code = await oathtool(secret, server.clock.now().getTime());
    const done = await browser.post('/auth/2fa/authenticate', { code });
    expect(done.status).toBe(200);
    expect(done.body.meta.is_authenticated).toBe(true);
    expect(done.body.data.methods.map((m: { method: string; type?: string }) => [m.method, m.type])).toEqual([['password', undefined], ['mfa', 'totp']]);
    expect((await browser.get('/auth/session')).status).toBe(200);

    // The same code again, in another login at the same step: refused with allauth's error object.
    const other = await restBrowser(server);
    expect((await login(other)).status).toBe(401);
    const replay = await other.post('/auth/2fa/authenticate', { code });
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ status: 400, errors: [{ message: expect.any(String), code: 'code_replayed', param: 'code' }] });
  });

  it('completes another login with a recovery code, and refuses that code the second time', async () => {
    server.clock.advance(60_000);
    const owner = await restBrowser(server);
    expect((await login(owner)).status).toBe(401);
    expect((await owner.post('/auth/2fa/authenticate', { code: await oathtool(secret, server.clock.now().getTime()) })).status).toBe(200);
    const codes = await owner.get('/account/authenticators/recovery-codes');
    expect(codes.status).toBe(200);
    expect(codes.body.data).toMatchObject({ type: 'recovery_codes', total_code_count: codes.body.data.unused_codes.length });
    const recoveryCode = codes.body.data.unused_codes[0] as string;

    const app = restApp(server);
    const pending = await login(app);
    expect(pending.status).toBe(401);
    expect(pending.body.meta.session_token).toEqual(expect.any(String));
    const done = await app.post('/auth/2fa/authenticate', { code: recoveryCode });
    expect(done.status).toBe(200);
    expect(done.body.data.methods.at(-1)).toMatchObject({ method: 'mfa', type: 'recovery_codes' });
    expect(done.body.meta.session_token).toEqual(expect.any(String));
    expect(done.body.meta.session_token).not.toBe(pending.body.meta.session_token);
    expect((await app.get('/auth/session')).status).toBe(200);

    const again = restApp(server);
    await login(again);
    const replay = await again.post('/auth/2fa/authenticate', { code: recoveryCode });
    expect(replay.status).toBe(400);
    expect(replay.body.errors).toEqual([{ message: expect.any(String), code: 'code_replayed', param: 'code' }]);
  });

  it('answers a wrong password with allauth\'s 400 and a signed-in login with 409', async () => {
    const browser = await restBrowser(server);
    const wrong = await browser.post('/auth/login', { email, password: 'not the password at all' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatchObject({ code: 'email_password_mismatch', param: 'password' });
    const invalid = await browser.post('/auth/login', { email: 'not an email', password: 'x' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors[0]).toMatchObject({ code: 'invalid', param: 'email' });
    const fresh = await restBrowser(server);
    await fresh.post('/auth/signup', { email: 'second@example.com', password: PASSWORD });
    expect((await fresh.post('/auth/login', { email: 'second@example.com', password: PASSWORD })).status).toBe(409);
    expect((await fresh.post('/auth/2fa/authenticate', { code: '123456' })).status).toBe(409);
  });

  it('logs out with DELETE auth/session (401), and an app\'s dead token is 410', async () => {
    const app = restApp(server);
    await app.post('/auth/signup', { email: 'third@example.com', password: PASSWORD });
    const token = app.sessionToken!;
    const out = await app.delete('/auth/session');
    expect(out.status).toBe(401);
    expect(out.body.meta.is_authenticated).toBe(false);
    const gone = await app.get('/auth/session', { headers: { 'x-session-token': token } });
    expect(gone.status).toBe(410);
    expect((await app.get('/account/authenticators', { headers: { 'x-session-token': token } })).status).toBe(410);
  });
});
