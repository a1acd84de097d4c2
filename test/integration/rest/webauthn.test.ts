// WebAuthn over allauth's headless API with the soft authenticator: adding a key, the key as second factor, step-up,
// passkey login and passkey signup, for browser and app clients. Every answer is validated against the document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restApp, restBrowser, type AllauthClient } from '../../helpers/allauth.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { fastArgon, PASSWORD, softKey } from '../webauthn/helpers.js';

describe('allauth headless: WebAuthn', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, PASSKEY_SIGNUP_ENABLED: 'true' } });
  });
  afterAll(() => server.close());

  async function addKey(client: AllauthClient, passwordless: boolean) {
    const key = softKey(server);
    const options = await client.get(`/account/authenticators/webauthn${passwordless ? '?passwordless' : ''}`);
    expect(options.status).toBe(200);
    const added = await client.post('/account/authenticators/webauthn', { name: passwordless ? 'Passkey' : 'Key', credential: key.register(options.body.data.creation_options.publicKey) });
    expect(added.status).toBe(200);
    return { key, added };
  }

  it('adds a key, renames it, and uses it as the second factor of a password login', async () => {
    const browser = await restBrowser(server);
    await browser.post('/auth/signup', { email: 'key@example.com', password: PASSWORD });
    const { key, added } = await addKey(browser, false);
    expect(added.body.data).toMatchObject({ type: 'webauthn', name: 'Key', is_passwordless: false, last_used_at: null });
    expect(added.body.meta).toEqual({ recovery_codes_generated: true });
    const renamed = await browser.put('/account/authenticators/webauthn', { id: added.body.data.id, name: 'Blue key' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data.name).toBe('Blue key');

    const login = await restBrowser(server);
    const pending = await login.post('/auth/login', { email: 'key@example.com', password: PASSWORD });
    expect(pending.status).toBe(401);
    const flow = pending.body.data.flows.find((f: { id: string }) => f.id === 'mfa_authenticate');
    expect(flow).toMatchObject({ is_pending: true });
    expect(flow.types).toContain('webauthn');
    const options = await login.get('/auth/webauthn/authenticate');
    expect(options.status).toBe(200);
    const done = await login.post('/auth/webauthn/authenticate', { credential: key.assert(options.body.data.request_options.publicKey) });
    expect(done.status).toBe(200);
    expect(done.body.data.methods.at(-1)).toMatchObject({ method: 'mfa', type: 'webauthn' });

    // A replayed assertion (same challenge, used up) is refused with an error object.
    const again = await restBrowser(server);
    await again.post('/auth/login', { email: 'key@example.com', password: PASSWORD });
    const replay = await again.post('/auth/webauthn/authenticate', { credential: key.assert(options.body.data.request_options.publicKey) });
    expect(replay.status).toBe(400);
    expect(replay.body.errors[0].param).toBe('credential');

    // Step-up with the key, then removing it (a sensitive change) is allowed.
    const stepUp = await login.get('/auth/webauthn/reauthenticate');
    expect(stepUp.status).toBe(200);
    expect((await login.post('/auth/webauthn/reauthenticate', { credential: key.assert(stepUp.body.data.request_options.publicKey) })).status).toBe(200);
    expect((await login.delete('/account/authenticators/webauthn', { authenticators: [added.body.data.id] })).status).toBe(200);
    // The last factor gone, its recovery codes went with it.
    expect((await login.get('/account/authenticators')).body.data).toEqual([]);
  });

  it('logs in with a passkey: app (ceremony in meta.session_token) and browser (ceremony cookie)', async () => {
    const owner = restApp(server);
    await owner.post('/auth/signup', { email: 'passkey@example.com', password: PASSWORD });
    const firstToken = owner.sessionToken;
    const { key, added } = await addKey(owner, true);
    expect(added.body.data.is_passwordless).toBe(true);
    // Registration rotated the session to AAL2: the app got the new token.
    expect(added.body.meta.session_token).toEqual(expect.any(String));
    expect(owner.sessionToken).not.toBe(firstToken);
    expect((await owner.get('/auth/session')).status).toBe(200);

    const app = restApp(server);
    const options = await app.get('/auth/webauthn/login');
    expect(options.body.meta.session_token).toEqual(expect.any(String));
    const done = await app.post('/auth/webauthn/login', { credential: key.assert(options.body.data.request_options.publicKey) });
    expect(done.status).toBe(200);
    expect(done.body.data.user.email).toBe('passkey@example.com');
    expect(done.body.data.methods).toEqual([expect.objectContaining({ method: 'mfa', type: 'webauthn', passwordless: true })]);
    expect(done.body.meta.session_token).not.toBe(options.body.meta.session_token);

    const browser = await restBrowser(server);
    const browserOptions = await browser.get('/auth/webauthn/login');
    expect(browser.cookies.get('tessera_webauthn')).toEqual(expect.any(String));
    const browserDone = await browser.post('/auth/webauthn/login', { credential: key.assert(browserOptions.body.data.request_options.publicKey) });
    expect(browserDone.status).toBe(200);
    expect(browser.cookies.has('tessera_webauthn')).toBe(false);
    expect((await browser.get('/auth/session')).status).toBe(200);
  });

  it('signs up with a passkey: POST the email (401, flow pending), GET the options, PUT the credential', async () => {
    for (const [client, email] of [[await restBrowser(server), 'passkey-signup-browser@example.com'], [restApp(server), 'passkey-signup-app@example.com']] as const) {
      const started = await client.post('/auth/webauthn/signup', { email });
      expect(started.status).toBe(401);
      expect(started.body.data.flows).toContainEqual({ id: 'mfa_signup_webauthn', is_pending: true });
      const session = await client.get('/auth/session');
      expect(session.status).toBe(401);
      expect(session.body.data.flows).toContainEqual({ id: 'mfa_signup_webauthn', is_pending: true });
      const options = await client.get('/auth/webauthn/signup');
      expect(options.status).toBe(200);
      const key = softKey(server);
      const done = await client.put('/auth/webauthn/signup', { name: 'My passkey', credential: key.register(options.body.data.creation_options.publicKey) });
      expect(done.status).toBe(200);
      expect(done.body.data.user).toMatchObject({ email, has_usable_password: false });
      const list = await client.get('/account/authenticators');
      expect(list.body.data).toContainEqual(expect.objectContaining({ type: 'webauthn', name: 'My passkey', is_passwordless: true }));
      // The ceremony is over: its options are gone.
      expect((await client.get('/auth/webauthn/signup')).status).toBe(409);
    }
    const taken = await restApp(server).post('/auth/webauthn/signup', { email: 'passkey-signup-app@example.com' });
    expect(taken.status).toBe(400);
    expect(taken.body.errors[0]).toMatchObject({ code: 'email_taken', param: 'email' });
  });
});
