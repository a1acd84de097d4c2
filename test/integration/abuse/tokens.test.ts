// Issue 11 item 10: a browser holds its session (and a passkey ceremony) in HttpOnly cookies, so the token must not
// also come back in a response body, where any script on the page could read it. Only a client that says
// `X-Tessera-Client: app` (and then sends `Authorization: Bearer`) is handed tokens in payloads. Over https the cookies
// carry the `__Host-` prefix (Secure, Path=/, no Domain), and a cookie under the plain name is not read there: a
// sibling subdomain or a plain-http page could have planted it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftAuthenticator } from '../../fixtures/softAuthenticator.js';
import { signedUpUser, startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import { activateTotpMutation, authenticateMfaMutation, codeAt, fastArgon, loginMutation, PASSWORD, setupTotpMutation } from '../totp/helpers.js';
import { beginAuthentication, beginRegistration, loginWithPasskey, register } from '../webauthn/helpers.js';

const signupMutation = `mutation($email: String!, $password: String!) { signup(input: { email: $email, password: $password }) {
  __typename ... on AuthPayload { sessionToken authState { isAuthenticated } } ... on Error { code message } } }`;
const beginPasskeySignup = `mutation($email: String!) { beginPasskeySignup(input: { email: $email }) {
  __typename ... on PasskeySignupOptions { creationOptions ceremonyToken } ... on Error { code message } } }`;
const completePasskeySignup = `mutation($credential: JSON!) { completePasskeySignup(input: { credential: $credential }) {
  __typename ... on PasskeySignupPayload { sessionToken authState { isAuthenticated } } ... on Error { code message } } }`;
const me = `{ me { email } }`;

/** The Set-Cookie for `name` (on the wire), split into its attributes; the first is `name=value`. */
function setCookie(headers: Headers, name: string): string[] | undefined {
  const found = headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return found?.split(';').map((s) => s.trim());
}

/** Signs up, sets up and activates TOTP on `client` (browser or app); returns the activation payload and the secret. */
async function withTotp(server: TestServer, client: GraphQLClient, email: string) {
  const signup = await client.gql(signupMutation, { email, password: PASSWORD });
  const secret = (await client.gql(setupTotpMutation)).data.setupTotp.secret as string;
  const activated = await client.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
  return { signup, activated, secret };
}

describe('session tokens in response bodies (http://localhost)', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer({ env: { ...fastArgon, PASSKEY_SIGNUP_ENABLED: 'true' } }); });
  afterAll(() => server.close());

  it('a browser-style request gets sessionToken null from signup, activateTotp, login and authenticateMfa, and an HttpOnly cookie that works', async () => {
    const browser = server.browser();
    const { signup, activated, secret } = await withTotp(server, browser, 'browser@example.com');
    expect(signup.data.signup).toMatchObject({ __typename: 'AuthPayload', sessionToken: null, authState: { isAuthenticated: true } });
    expect(setCookie(signup.headers, 'tessera_session')).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']));
    expect(activated.data.activateTotp).toMatchObject({ __typename: 'ActivateTotpPayload', sessionToken: null });
    expect(setCookie(activated.headers, 'tessera_session')).toContain('HttpOnly');

    server.clock.advance(30_000);
    const again = server.browser();
    const login = await again.gql(loginMutation, { email: 'browser@example.com', password: PASSWORD });
    expect(login.data.login).toMatchObject({ __typename: 'AuthPayload', sessionToken: null });
    expect(setCookie(login.headers, 'tessera_session')).toContain('HttpOnly');
    const mfa = await again.gql(authenticateMfaMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
    expect(mfa.data.authenticateMfa).toMatchObject({ __typename: 'AuthPayload', sessionToken: null, authState: { isAuthenticated: true, session: { aal: 2 } } });
    const cookie = setCookie(mfa.headers, 'tessera_session');
    expect(cookie).toContain('HttpOnly');
    // The token exists, only not where a script can read it: the cookie alone carries the session.
    expect(cookie![0]).toMatch(/^tessera_session=[A-Za-z0-9_-]{43}$/);
    expect((await again.gql(me)).data.me.email).toBe('browser@example.com');
    // Nowhere in the body either.
    expect(JSON.stringify(mfa.data)).not.toContain(again.cookie!);
  });

  it('an app client (X-Tessera-Client: app) gets the token in the same payloads, and it works as a bearer', async () => {
    const app = server.appClient();
    const { signup, activated, secret } = await withTotp(server, app, 'app@example.com');
    expect(signup.data.signup.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(activated.data.activateTotp.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    server.clock.advance(30_000);
    const again = server.appClient();
    const login = await again.gql(loginMutation, { email: 'app@example.com', password: PASSWORD });
    // A pending login's token: as random, marked as one (resolveCaller reads its MFA step's streams with it).
    expect(login.data.login.sessionToken).toMatch(/^mfa\.[A-Za-z0-9_-]{43}$/);
    const mfa = await again.gql(authenticateMfaMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
    const token = mfa.data.authenticateMfa.sessionToken as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await server.appClient(token).gql(me)).data.me.email).toBe('app@example.com');
  });

  it('the header must say exactly app: anything else is a browser', async () => {
    for (const value of ['', 'browser', 'application', 'app, app']) {
      const res = await server.browser().gql(signupMutation, { email: `other-${value.length}@example.com`, password: PASSWORD }, { headers: { 'x-tessera-client': value } });
      expect(res.data.signup, value).toMatchObject({ __typename: 'AuthPayload', sessionToken: null });
    }
  });

  it('registerWebAuthn rotates the session without handing a browser the new token', async () => {
    const browser = server.browser();
    await browser.gql(signupMutation, { email: 'keyed@example.com', password: PASSWORD });
    const key = createSoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const begun = await browser.gql(beginRegistration, { p: false });
    const registered = await browser.gql(register, { name: 'Key', credential: key.register(begun.data.beginWebAuthnRegistration.creationOptions) });
    expect(registered.data.registerWebAuthn).toMatchObject({ __typename: 'RegisterWebAuthnPayload', sessionToken: null });
    expect(setCookie(registered.headers, 'tessera_session')).toContain('HttpOnly');
  });

  it('the passkey ceremony token goes to a browser as an HttpOnly cookie only, and the cookie alone completes passkey login and signup', async () => {
    // A passkey to log in with.
    const owner = await signedUpUser(server, 'passkey@example.com', PASSWORD);
    const key = createSoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const begun = await owner.gql(beginRegistration, { p: true });
    await owner.gql(register, { name: 'Passkey', credential: key.register(begun.data.beginWebAuthnRegistration.creationOptions) });

    const browser = server.browser();
    const options = await browser.gql(beginAuthentication, { purpose: 'PASSKEY_LOGIN' });
    expect(options.data.beginWebAuthnAuthentication).toMatchObject({ __typename: 'WebAuthnRequestOptions', ceremonyToken: null });
    expect(setCookie(options.headers, 'tessera_webauthn')).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']));
    const login = await browser.gql(loginWithPasskey, { credential: key.assert(options.data.beginWebAuthnAuthentication.requestOptions) });
    expect(login.data.loginWithPasskey).toMatchObject({ __typename: 'AuthPayload', sessionToken: null, authState: { isAuthenticated: true } });
    expect((await browser.gql(me)).data.me.email).toBe('passkey@example.com');

    const app = server.appClient();
    expect((await app.gql(beginAuthentication, { purpose: 'PASSKEY_LOGIN' })).data.beginWebAuthnAuthentication.ceremonyToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    const newcomer = server.browser();
    const signupOptions = await newcomer.gql(beginPasskeySignup, { email: 'newcomer@example.com' });
    expect(signupOptions.data.beginPasskeySignup).toMatchObject({ __typename: 'PasskeySignupOptions', ceremonyToken: null });
    const newKey = createSoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const signup = await newcomer.gql(completePasskeySignup, { credential: newKey.register(signupOptions.data.beginPasskeySignup.creationOptions) });
    expect(signup.data.completePasskeySignup).toMatchObject({ __typename: 'PasskeySignupPayload', sessionToken: null, authState: { isAuthenticated: true } });
    expect(setCookie(signup.headers, 'tessera_session')).toContain('HttpOnly');
    expect((await app.gql(beginPasskeySignup, { email: 'other-app@example.com' })).data.beginPasskeySignup.ceremonyToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });
});

describe('cookies over https (PUBLIC_ORIGIN https://auth.example.com)', () => {
  const origin = 'https://auth.example.com';
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer({ env: { ...fastArgon, PUBLIC_ORIGIN: origin } }); });
  afterAll(() => server.close());

  it('names the session cookie __Host-tessera_session: Secure, HttpOnly, Path=/, no Domain; it is read under that name', async () => {
    const browser = server.browser();
    const res = await browser.gql(signupMutation, { email: 'host@example.com', password: PASSWORD });
    expect(res.data.signup).toMatchObject({ __typename: 'AuthPayload', sessionToken: null });
    expect(setCookie(res.headers, 'tessera_session')).toBeUndefined();
    const cookie = setCookie(res.headers, '__Host-tessera_session')!;
    expect(cookie[0]).toMatch(/^__Host-tessera_session=[A-Za-z0-9_-]{43}$/);
    expect(cookie).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']));
    expect(cookie.some((a) => /^domain=/i.test(a))).toBe(false);
    expect((await browser.gql(me)).data.me.email).toBe('host@example.com');
  });

  it('ignores a valid session token sent under the unprefixed name (a cookie a subdomain or a plain-http page could set)', async () => {
    const browser = server.browser();
    await browser.gql(signupMutation, { email: 'planted@example.com', password: PASSWORD });
    const token = browser.cookie!;
    const planted = await server.browser().gql(me, undefined, { headers: { cookie: `tessera_session=${token}` } });
    expect(planted.data.me).toBeNull();
    const genuine = await server.browser().gql(me, undefined, { headers: { cookie: `__Host-tessera_session=${token}` } });
    expect(genuine.data.me.email).toBe('planted@example.com');
  });

  it('names the ceremony cookie __Host-tessera_webauthn and reads only that name', async () => {
    const owner = await signedUpUser(server, 'host-passkey@example.com', PASSWORD);
    const key = createSoftAuthenticator({ origin, rpId: 'auth.example.com' });
    const begun = await owner.gql(beginRegistration, { p: true });
    const registered = await owner.gql(register, { name: 'Passkey', credential: key.register(begun.data.beginWebAuthnRegistration.creationOptions) });
    expect(registered.data.registerWebAuthn.__typename).toBe('RegisterWebAuthnPayload');

    // Under the plain name the ceremony is not found.
    const planted = server.browser();
    const plantedOptions = await planted.gql(beginAuthentication, { purpose: 'PASSKEY_LOGIN' });
    const plantedCookie = setCookie(plantedOptions.headers, '__Host-tessera_webauthn')![0]!.split('=')[1]!;
    const refused = await planted.gql(loginWithPasskey, { credential: key.assert(plantedOptions.data.beginWebAuthnAuthentication.requestOptions) }, { headers: { cookie: `tessera_webauthn=${plantedCookie}` } });
    expect(refused.data.loginWithPasskey).toMatchObject({ __typename: 'AuthError', code: 'CHALLENGE_INVALID' });

    const browser = server.browser();
    const options = await browser.gql(beginAuthentication, { purpose: 'PASSKEY_LOGIN' });
    expect(options.data.beginWebAuthnAuthentication.ceremonyToken).toBeNull();
    const cookie = setCookie(options.headers, '__Host-tessera_webauthn')!;
    expect(cookie).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'Path=/']));
    expect(cookie.some((a) => /^domain=/i.test(a))).toBe(false);
    const login = await browser.gql(loginWithPasskey, { credential: key.assert(options.data.beginWebAuthnAuthentication.requestOptions) });
    expect(login.data.loginWithPasskey).toMatchObject({ __typename: 'AuthPayload', sessionToken: null, authState: { isAuthenticated: true } });
    expect(setCookie(login.headers, '__Host-tessera_session')).toContain('HttpOnly');
  });
});
