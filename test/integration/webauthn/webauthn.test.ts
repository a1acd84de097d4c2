// WebAuthn at the API, with the in-process soft authenticator: the happy paths, then what an attacker would try.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import {
  authenticate, beginAuthentication, beginRegistration, eventsOf, fastArgon, loginWithPasskey, meQuery, mfaAssertion,
  passkeyAssertion, pendingLogin, register, softKey, userWithKey,
} from './helpers.js';

describe('WebAuthn over HTTP', () => {
  let server: TestServer;
  let n = 0;
  const email = () => `wa${++n}@example.com`;

  beforeAll(async () => {
    // Generous budgets: the adversarial cases below each spend attempts on one account.
    server = await startTestServer({ env: { ...fastArgon, ATTEMPTS_PER_ACCOUNT: '40', LOCKOUT_LOCK_AFTER: '40', LOCKOUT_HARD_LIMIT: '50', LOCKOUT_BACKOFF_AFTER: '40' } });
  });
  afterAll(() => server.close());

  it('registers a security key (first factor: recovery codes once), lists it, and logs in with password + key at AAL2', async () => {
    const client = await signedUpUser(server, email());
    const key = softKey(server);
    const begun = await client.gql(beginRegistration, { p: false });
    const options = begun.data.beginWebAuthnRegistration.creationOptions;
    expect(Buffer.from(options.challenge, 'base64url').length).toBeGreaterThanOrEqual(16);
    const registered = await client.gql(register, { name: 'YubiKey', credential: key.register(options) });
    expect(registered.data.registerWebAuthn.__typename).toBe('RegisterWebAuthnPayload');
    expect(registered.data.registerWebAuthn.recoveryCodes).toHaveLength(10);
    const me = await client.gql(meQuery);
    expect(me.data.me.authenticators.filter((a: any) => a.__typename === 'WebAuthnAuthenticator')).toMatchObject([{ name: 'YubiKey', isPasswordless: false, lastUsedAt: null }]);

    const pending = await pendingLogin(server, (await client.gql('{ me { email } }')).data.me.email);
    const ok = await pending.gql(authenticate, { credential: await mfaAssertion(pending, key) });
    expect(ok.data.authenticateWebAuthn.authState.session).toMatchObject({ aal: 2, methods: [{ method: 'password' }, { method: 'webauthn' }] });
  });

  it('a second key needs a recent reauthentication and gets no new recovery codes; the first stays listed in excludeCredentials', async () => {
    const user = await userWithKey(server, email());
    server.clock.advance(10 * 60 * 1000);
    const refused = await user.client.gql(beginRegistration, { p: true });
    expect(refused.data.beginWebAuthnRegistration.code).toBe('REAUTHENTICATION_REQUIRED');
    // Step-up with the key itself.
    const begun = await user.client.gql(beginAuthentication, { purpose: 'REAUTHENTICATE' });
    const stepUp = await user.client.gql(authenticate, { credential: user.key.assert(begun.data.beginWebAuthnAuthentication.requestOptions) });
    expect(stepUp.data.authenticateWebAuthn.sessionToken).toBeTruthy();
    const again = await user.client.gql(beginRegistration, { p: true });
    const options = again.data.beginWebAuthnRegistration.creationOptions;
    expect(options.excludeCredentials.map((c: any) => c.id)).toEqual([user.key.credentials[0]!.id]);
    const second = softKey(server);
    const registered = await user.client.gql(register, { name: 'Phone', credential: second.register(options) });
    expect(registered.data.registerWebAuthn).toMatchObject({ recoveryCodes: null, authenticator: { isPasswordless: true } });
  });

  it('passkey login: AAL2 with method passkey, no password', async () => {
    const user = await userWithKey(server, email(), { passwordless: true, counterMode: 'zero' });
    const { client, token, credential } = await passkeyAssertion(server, user.key);
    const res = await client.gql(loginWithPasskey, { credential, token });
    expect(res.data.loginWithPasskey.authState).toMatchObject({ isAuthenticated: true, user: { id: user.userId }, session: { aal: 2, methods: [{ method: 'passkey' }] } });
  });

  it('rename, and remove with reauthentication', async () => {
    const user = await userWithKey(server, email());
    const renamed = await user.client.gql(`mutation($id: ID!) { renameWebAuthn(input: { id: $id, name: "Desk key" }) { __typename ... on RenameWebAuthnPayload { authenticator { ... on WebAuthnAuthenticator { name } } } ... on Error { code } } }`, { id: user.authenticatorId });
    expect(renamed.data.renameWebAuthn.authenticator.name).toBe('Desk key');
    const removed = await user.client.gql(`mutation($ids: [ID!]!) { removeWebAuthn(input: { ids: $ids }) { __typename ... on RemoveWebAuthnPayload { authenticators { __typename } } ... on Error { code } } }`, { ids: [user.authenticatorId] });
    // The last second factor is gone, and the recovery codes that backed it up went with it.
    expect(removed.data.removeWebAuthn.authenticators.map((a: any) => a.__typename)).toEqual([]);
  });

  describe('adversarial', () => {
    it('a replayed assertion is refused (the challenge was consumed)', async () => {
      const user = await userWithKey(server, email());
      const pending = await pendingLogin(server, user.email);
      const credential = await mfaAssertion(pending, user.key);
      expect((await pending.gql(authenticate, { credential })).data.authenticateWebAuthn.__typename).toBe('AuthPayload');
      const attacker = await pendingLogin(server, user.email);
      await attacker.gql(beginAuthentication, { purpose: 'MFA' });
      expect((await attacker.gql(authenticate, { credential })).data.authenticateWebAuthn.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
    });

    it('one passkey assertion submitted 8 times at once logs in once: the challenge goes with the one verdict that took it', async () => {
      if (!server.database.url) return; // a race on a database that serializes everything cannot fail: PostgreSQL only
      const user = await userWithKey(server, email(), { passwordless: true, counterMode: 'zero' });
      const { client, token, credential } = await passkeyAssertion(server, user.key);
      const results = await Promise.all(Array.from({ length: 8 }, () => client.gql(loginWithPasskey, { credential, token })));
      const kinds = results.map((r) => (r.data.loginWithPasskey.authState ? 'session' : r.data.loginWithPasskey.code)).sort();
      expect(kinds).toEqual([...Array<string>(7).fill('CHALLENGE_INVALID'), 'session']);
      const accepted = (await eventsOf(server, `authenticators-${user.userId}`)).filter((e) => e.type === 'WebAuthnAssertionAccepted' && e.data.purpose === 'passkey_login');
      expect(accepted).toHaveLength(1);
    });

    it('one security-key assertion submitted 8 times at once in the MFA step completes the login once, each request deciding on what its token lookup read ahead', async () => {
      if (!server.database.url) return; // a race on a database that serializes everything cannot fail: PostgreSQL only
      const user = await userWithKey(server, email(), { counterMode: 'zero' });
      const pending = await pendingLogin(server, user.email);
      const credential = await mfaAssertion(pending, user.key);
      const sessions = async (): Promise<number> => (await server.database.db.query<{ n: number }>(`select count(*)::int as n from proj.sessions where user_id = $1`, [user.userId]))[0]!.n;
      const before = await sessions();
      const results = await Promise.all(Array.from({ length: 8 }, () => pending.gql(authenticate, { credential })));
      expect(results.filter((r) => r.data.authenticateWebAuthn.__typename === 'AuthPayload')).toHaveLength(1);
      const accepted = (await eventsOf(server, `authenticators-${user.userId}`)).filter((e) => e.type === 'WebAuthnAssertionAccepted' && e.data.purpose === 'login');
      expect(accepted).toHaveLength(1);
      expect(await sessions()).toBe(before + 1);
    });

    it('an expired challenge (5 minutes) is refused', async () => {
      const user = await userWithKey(server, email());
      const pending = await pendingLogin(server, user.email);
      const credential = await mfaAssertion(pending, user.key);
      server.clock.advance(5 * 60 * 1000);
      expect((await pending.gql(authenticate, { credential })).data.authenticateWebAuthn.code).toBe('CHALLENGE_INVALID');
    });

    it("another user's challenge is refused, and a user B credential in user A's MFA step is refused", async () => {
      const a = await userWithKey(server, email());
      const b = await userWithKey(server, email());
      const pendingA = await pendingLogin(server, a.email);
      const pendingB = await pendingLogin(server, b.email);
      // B signs over B's own challenge and submits in A's flow: A's flow has no such challenge outstanding.
      const overB = await mfaAssertion(pendingB, b.key);
      expect((await pendingA.gql(authenticate, { credential: overB })).data.authenticateWebAuthn.code).toBe('CHALLENGE_INVALID');
      // B's key over A's real challenge: not A's credential.
      const beganA = await pendingA.gql(beginAuthentication, { purpose: 'MFA' });
      const options = { ...beganA.data.beginWebAuthnAuthentication.requestOptions, allowCredentials: [] };
      const bKeyOnA = b.key.credentials[0]!;
      const assertion = b.key.assert({ ...options, allowCredentials: [{ id: bKeyOnA.id, type: 'public-key' }] });
      expect((await pendingA.gql(authenticate, { credential: assertion })).data.authenticateWebAuthn.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
      const rejected = (await eventsOf(server, `authenticators-${a.userId}`)).filter((e) => e.type === 'WebAuthnAssertionRejected');
      expect(rejected.map((e) => e.data.reason)).toEqual(['CHALLENGE_INVALID', 'CREDENTIAL_NOT_FOUND']);
    });

    it.each([
      ['wrong origin', { origin: 'https://evil.example' }, 'ORIGIN_MISMATCH'],
      ['wrong RP ID hash', { rpId: 'evil.example' }, 'RP_ID_MISMATCH'],
      ['user-present flag off', { flags: { up: false } }, 'USER_NOT_PRESENT'],
      ['bad signature', { corruptSignature: true }, 'SIGNATURE_INVALID'],
    ] as const)('%s is refused and recorded, and its challenge is consumed', async (_name, overrides, reason) => {
      const user = await userWithKey(server, email());
      const pending = await pendingLogin(server, user.email);
      const bad = await mfaAssertion(pending, user.key, overrides);
      expect((await pending.gql(authenticate, { credential: bad })).data.authenticateWebAuthn.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
      const last = (await eventsOf(server, `authenticators-${user.userId}`)).at(-1)!;
      expect(last).toMatchObject({ type: 'WebAuthnAssertionRejected', data: { reason } });
      // The same challenge, now signed correctly, is gone.
      const options = { challenge: JSON.parse(Buffer.from(bad.response.clientDataJSON, 'base64url').toString()).challenge, rpId: 'localhost', allowCredentials: [{ id: user.key.credentials[0]!.id, type: 'public-key' as const }] };
      const good = user.key.assert(options);
      expect((await pending.gql(authenticate, { credential: good })).data.authenticateWebAuthn.code).toBe('CHALLENGE_INVALID');
    });

    it('passkey login with the userHandle of another account is refused', async () => {
      const a = await userWithKey(server, email(), { passwordless: true });
      const b = await userWithKey(server, email(), { passwordless: true });
      const { client, token, credential } = await passkeyAssertion(server, a.key, { userHandle: Buffer.from(b.userId).toString('base64url') });
      expect((await client.gql(loginWithPasskey, { credential, token })).data.loginWithPasskey.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
      expect((await eventsOf(server, `authenticators-${a.userId}`)).at(-1)).toMatchObject({ type: 'WebAuthnAssertionRejected', data: { reason: 'USER_HANDLE_MISMATCH' } });
    });

    it('the user handle is only a hint: an assertion naming a locked account is judged as its credential owner\'s, whose standing decides', async () => {
      const a = await userWithKey(server, email(), { passwordless: true });
      const b = await userWithKey(server, email(), { passwordless: true });
      const [head] = await server.app.db.query<{ v: number }>(`select max(version)::int as v from events where stream_id = $1`, [`user-${b.userId}`]);
      const at = server.clock.now();
      await server.app.store.append(`user-${b.userId}`, [{ type: 'UserLocked', data: { userId: b.userId, until: new Date(at.getTime() + 3_600_000).toISOString(), failures: 10, bucket: 'untrusted', at: at.toISOString() } }], { expectedVersion: head!.v });
      // b is locked: b's own passkey is refused before anything is verified.
      const own = await passkeyAssertion(server, b.key);
      expect((await own.client.gql(loginWithPasskey, { credential: own.credential, token: own.token })).data.loginWithPasskey.code).toBe('ACCOUNT_LOCKED');
      // a's key with b's handle: a's attempt, under a's standing (not locked), rejected for the mismatch and recorded on a.
      const { client, token, credential } = await passkeyAssertion(server, a.key, { userHandle: Buffer.from(b.userId).toString('base64url') });
      expect((await client.gql(loginWithPasskey, { credential, token })).data.loginWithPasskey.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
      expect((await eventsOf(server, `authenticators-${a.userId}`)).at(-1)).toMatchObject({ type: 'WebAuthnAssertionRejected', data: { reason: 'USER_HANDLE_MISMATCH' } });
    });

    it('a key registered as a second factor cannot log in alone, even when the authenticator makes it discoverable', async () => {
      const a = await userWithKey(server, email(), { passwordless: false });
      // Some authenticators store every credential as discoverable: sign the passkey ceremony with it regardless.
      const client = server.appClient();
      const begun = (await client.gql(beginAuthentication, { purpose: 'PASSKEY_LOGIN' })).data.beginWebAuthnAuthentication;
      const token = begun.ceremonyToken as string;
      const credential = a.key.assert({ ...begun.requestOptions, allowCredentials: [{ id: a.key.credentials[0]!.id, type: 'public-key' }] }, { userHandle: Buffer.from(a.userId).toString('base64url') });
      expect((await client.gql(loginWithPasskey, { credential, token })).data.loginWithPasskey.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
      expect((await eventsOf(server, `authenticators-${a.userId}`)).at(-1)).toMatchObject({ type: 'WebAuthnAssertionRejected', data: { reason: 'CREDENTIAL_NOT_FOUND' } });
    });

    it('passkey login without user verification is refused', async () => {
      const a = await userWithKey(server, email(), { passwordless: true });
      const { client, token, credential } = await passkeyAssertion(server, a.key, { flags: { uv: false } });
      expect((await client.gql(loginWithPasskey, { credential, token })).data.loginWithPasskey.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
    });

    it("passkey login with another client's ceremony token is refused", async () => {
      const a = await userWithKey(server, email(), { passwordless: true });
      const mine = await passkeyAssertion(server, a.key);
      const other = await server.appClient().gql(beginAuthentication, { purpose: 'PASSKEY_LOGIN' });
      const res = await mine.client.gql(loginWithPasskey, { credential: mine.credential, token: other.data.beginWebAuthnAuthentication.ceremonyToken });
      // The other ceremony's challenge is not the one signed.
      expect(res.data.loginWithPasskey.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
      expect((await eventsOf(server, `authenticators-${a.userId}`)).at(-1)).toMatchObject({ type: 'WebAuthnAssertionRejected', data: { reason: 'CHALLENGE_MISMATCH' } });
    });

    it('a credential id registered to anyone is refused at registration', async () => {
      const a = await userWithKey(server, email());
      const b = await signedUpUser(server, email());
      const begun = await b.gql(beginRegistration, { p: false });
      const credential = softKey(server).register(begun.data.beginWebAuthnRegistration.creationOptions, { credentialId: a.key.credentials[0]!.id });
      expect((await b.gql(register, { name: 'Clone', credential })).data.registerWebAuthn.code).toBe('CREDENTIAL_ALREADY_REGISTERED');
    });

    it('two accounts racing to register one credential id: exactly one wins', async () => {
      const id = Buffer.alloc(32, 7).toString('base64url');
      const clients = await Promise.all([signedUpUser(server, email()), signedUpUser(server, email()), signedUpUser(server, email())]);
      const credentials = await Promise.all(clients.map(async (c) => softKey(server).register((await c.gql(beginRegistration, { p: false })).data.beginWebAuthnRegistration.creationOptions, { credentialId: id })));
      const results = await Promise.all(clients.map((c, i) => c.gql(register, { name: 'Race', credential: credentials[i] })));
      const kinds = results.map((r) => r.data.registerWebAuthn.__typename === 'RegisterWebAuthnPayload' ? 'ok' : r.data.registerWebAuthn.code).sort();
      expect(kinds).toEqual(['CREDENTIAL_ALREADY_REGISTERED', 'CREDENTIAL_ALREADY_REGISTERED', 'ok']);
    });

    it('a counter regression is refused and WebAuthnCloneSuspected is written; the new counter is stored', async () => {
      const user = await userWithKey(server, email());
      const first = await pendingLogin(server, user.email);
      expect((await first.gql(authenticate, { credential: await mfaAssertion(first, user.key) })).data.authenticateWebAuthn.__typename).toBe('AuthPayload');
      const accepted = (await eventsOf(server, `authenticators-${user.userId}`)).filter((e) => e.type === 'WebAuthnAssertionAccepted').at(-1)!;
      expect(accepted.data.counter).toBe(1);
      const clone = await pendingLogin(server, user.email);
      const res = await clone.gql(authenticate, { credential: await mfaAssertion(clone, user.key, { counter: 1 }) });
      expect(res.data.authenticateWebAuthn.code).toBe('CLONE_SUSPECTED');
      const types = (await eventsOf(server, `authenticators-${user.userId}`)).slice(-2);
      expect(types).toMatchObject([{ type: 'WebAuthnCloneSuspected', data: { storedCounter: 1, presentedCounter: 1 } }, { type: 'WebAuthnAssertionRejected', data: { reason: 'CLONE_SUSPECTED' } }]);
    });

    it('a change of the backup-eligible flag is refused', async () => {
      const user = await userWithKey(server, email());
      const pending = await pendingLogin(server, user.email);
      const res = await pending.gql(authenticate, { credential: await mfaAssertion(pending, user.key, { flags: { be: true } }) });
      expect(res.data.authenticateWebAuthn.code).toBe('WEBAUTHN_VERIFICATION_FAILED');
    });

    it('malformed or 1 MB credential JSON is VALIDATION_FAILED, never a 500', async () => {
      const big = await startTestServer({ env: { ...fastArgon, MAX_REQUEST_BYTES: String(4 * 1024 * 1024) } });
      try {
        const user = await userWithKey(big, 'big@example.com');
        const pending = await pendingLogin(big, user.email);
        const good = await mfaAssertion(pending, user.key);
        for (const credential of [
          'not an object', { id: 'x' }, { ...good, response: { ...good.response, signature: '!!!' } },
          { ...good, response: { ...good.response, clientDataJSON: 'A'.repeat(1024 * 1024) } },
        ]) {
          const res = await pending.gql(authenticate, { credential });
          expect(res.status).toBe(200);
          expect(res.data.authenticateWebAuthn.code).toBe('VALIDATION_FAILED');
        }
        const reg = await user.client.gql(register, { name: 'x', credential: { junk: 'x'.repeat(1024 * 1024) } });
        expect(reg.data.registerWebAuthn.code).toBe('VALIDATION_FAILED');
        const passkey = await big.appClient().gql(loginWithPasskey, { credential: [1, 2, 3] });
        expect(passkey.data.loginWithPasskey.code).toBe('VALIDATION_FAILED');
      } finally {
        await big.close();
      }
      // At the default body limit a 1 MB request never reaches the resolver.
      const res = await server.appClient().post(JSON.stringify({ query: loginWithPasskey, variables: { credential: { id: 'x'.repeat(1024 * 1024) } } }), { 'x-tessera-csrf': '1' });
      expect(res.status).toBe(413);
    });

    it('PASSKEY_LOGIN_ENABLED=false answers FEATURE_DISABLED', async () => {
      const off = await startTestServer({ env: { ...fastArgon, PASSKEY_LOGIN_ENABLED: 'false' } });
      try {
        const res = await off.appClient().gql(beginAuthentication, { purpose: 'PASSKEY_LOGIN' });
        expect(res.data.beginWebAuthnAuthentication.code).toBe('FEATURE_DISABLED');
      } finally {
        await off.close();
      }
    });
  });
});
