// Passkey signup (MFA_SIGNUP_WEBAUTHN): an account whose only credential is a passkey, behind PASSKEY_SIGNUP_ENABLED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordHashMetrics } from '../../../src/crypto/password.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { eventsOf, fastArgon, loginMutation, loginWithPasskey, meQuery, passkeyAssertion, PASSWORD, softKey } from './helpers.js';

const beginSignup = `mutation($email: String!) { beginPasskeySignup(input: { email: $email }) {
  __typename ... on PasskeySignupOptions { creationOptions ceremonyToken } ... on Error { code message } } }`;
const completeSignup = `mutation($credential: JSON!, $token: String) { completePasskeySignup(input: { credential: $credential, ceremonyToken: $token }) {
  __typename ... on PasskeySignupPayload { sessionToken recoveryCodes authState { isAuthenticated user { id email } session { aal methods { method } } } }
  ... on Error { code message } } }`;
const logout = `mutation { logout { __typename ... on LogoutPayload { ok } } }`;
const reauthenticate = `mutation($password: String!) { reauthenticate(input: { password: $password }) { __typename ... on Error { code } } }`;

async function eventCount(server: TestServer): Promise<number> {
  const [row] = await server.app.db.query<{ n: string }>('select count(*)::text as n from events');
  return Number(row!.n);
}

describe('passkey signup, enabled', () => {
  let server: TestServer;
  let n = 0;
  const email = () => `pks${++n}@example.com`;

  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, PASSKEY_SIGNUP_ENABLED: 'true' } });
  });
  afterAll(() => server.close());

  async function begin(address: string) {
    const client = server.appClient();
    const res = await client.gql(beginSignup, { email: address });
    const payload = res.data.beginPasskeySignup;
    if (payload.__typename !== 'PasskeySignupOptions') throw new Error(JSON.stringify(res));
    return { client, token: payload.ceremonyToken as string, options: payload.creationOptions };
  }

  it('creates an account with only a passkey: AAL2 session, the passkey and recovery codes; passkey login works, password login does not', async () => {
    const address = email();
    const key = softKey(server);
    const { client, token, options } = await begin(address);
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    const done = await client.gql(completeSignup, { credential: key.register(options), token });
    const payload = done.data.completePasskeySignup;
    expect(payload.__typename).toBe('PasskeySignupPayload');
    expect(payload.recoveryCodes).toHaveLength(10);
    expect(payload.authState).toMatchObject({ isAuthenticated: true, user: { email: address }, session: { aal: 2, methods: [{ method: 'passkey' }] } });
    const userId = payload.authState.user.id as string;

    const me = await client.gql(meQuery);
    expect(me.data.me.authenticators.filter((a: any) => a.__typename === 'WebAuthnAuthenticator')).toMatchObject([{ name: 'Passkey', isPasswordless: true }]);
    expect(me.data.me.authenticators.map((a: any) => a.__typename)).toContain('RecoveryCodesAuthenticator');
    const registered = (await eventsOf(server, `user-${userId}`))[0]!;
    expect(registered).toMatchObject({ type: 'UserRegistered', data: { email: address, passwordHash: null } });

    // Reauthentication with a password fails for an account that has none.
    expect((await client.gql(reauthenticate, { password: PASSWORD })).data.reauthenticate.code).toBe('INVALID_CREDENTIALS');

    expect((await client.gql(logout)).data.logout.ok).toBe(true);
    const login = await passkeyAssertion(server, key);
    const loggedIn = await login.client.gql(loginWithPasskey, { credential: login.credential, token: login.token });
    expect(loggedIn.data.loginWithPasskey.authState).toMatchObject({ isAuthenticated: true, user: { id: userId }, session: { aal: 2, methods: [{ method: 'passkey' }] } });

    // No hash to check: the dummy one is verified (same cost as a real check) and the answer is a wrong password's.
    const dummyBefore = passwordHashMetrics.dummyVerifications;
    const passwordLogin = await server.appClient().gql(loginMutation, { email: address, password: PASSWORD });
    expect(passwordLogin.data.login.code).toBe('INVALID_CREDENTIALS');
    expect(passwordHashMetrics.dummyVerifications).toBe(dummyBefore + 1);
  });

  it('a replayed completion is refused: the challenge was consumed', async () => {
    const key = softKey(server);
    const { client, token, options } = await begin(email());
    const credential = key.register(options);
    expect((await client.gql(completeSignup, { credential, token })).data.completePasskeySignup.__typename).toBe('PasskeySignupPayload');
    const again = await server.appClient().gql(completeSignup, { credential, token });
    expect(again.data.completePasskeySignup.code).toBe('CHALLENGE_INVALID');
  });

  it('a taken email is refused at the start, and at completion (taken meanwhile) with nothing written', async () => {
    const taken = email();
    const { client, token, options } = await begin(taken);
    await signedUpUser(server, taken);
    expect((await server.appClient().gql(beginSignup, { email: taken })).data.beginPasskeySignup.code).toBe('EMAIL_TAKEN');
    const before = await eventCount(server);
    const res = await client.gql(completeSignup, { credential: softKey(server).register(options), token });
    expect(res.data.completePasskeySignup.code).toBe('EMAIL_TAKEN');
    expect(await eventCount(server)).toBe(before);
    const pendingUserId = Buffer.from(options.user.id, 'base64url').toString('utf8');
    expect(await eventsOf(server, `user-${pendingUserId}`)).toEqual([]);
  });

  it('an expired challenge (5 minutes) is refused', async () => {
    const { client, token, options } = await begin(email());
    const credential = softKey(server).register(options);
    server.clock.advance(5 * 60 * 1000);
    expect((await client.gql(completeSignup, { credential, token })).data.completePasskeySignup.code).toBe('CHALLENGE_INVALID');
  });

  it('user verification is required', async () => {
    const { client, token, options } = await begin(email());
    const credential = softKey(server).register(options, { flags: { uv: false } });
    expect((await client.gql(completeSignup, { credential, token })).data.completePasskeySignup.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
  });

  it('lists MFA_SIGNUP_WEBAUTHN among the anonymous flows', async () => {
    const res = await server.appClient().gql('{ authState { flows { id } } }');
    expect(res.data.authState.flows.map((f: any) => f.id)).toContain('MFA_SIGNUP_WEBAUTHN');
  });
});

describe('passkey signup, disabled (the default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: fastArgon });
  });
  afterAll(() => server.close());

  it('answers FEATURE_DISABLED to both steps', async () => {
    const client = server.appClient();
    expect((await client.gql(beginSignup, { email: 'off@example.com' })).data.beginPasskeySignup.code).toBe('FEATURE_DISABLED');
    const res = await client.gql(completeSignup, { credential: { id: 'x', rawId: 'x', type: 'public-key', response: {}, clientExtensionResults: {} }, token: 'a'.repeat(43) });
    expect(res.data.completePasskeySignup.code).toBe('FEATURE_DISABLED');
    expect((await client.gql('{ authState { flows { id } } }')).data.authState.flows.map((f: any) => f.id)).not.toContain('MFA_SIGNUP_WEBAUTHN');
  });
});
