// Sessions over HTTP: cookies and bearer tokens, idle and absolute expiry on an injected clock, throttled activity,
// token rotation, revocation, and the reauthentication and MFA rules for sensitive changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../src/crypto/tokens.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import {
  AUTH_STATE, CHANGE_EMAIL, CHANGE_PASSWORD, DELETE_ACCOUNT, eventsOfType, giveTotpFactor, HOUR, login, LOGOUT, ME, MINUTE, PASSWORD,
  REAUTHENTICATE, REVOKE_SESSIONS, sessionRow, userIdOf,
} from './support.js';

let server: TestServer;
// Email changes take effect at once without verification (none): this suite is about the reauthentication rule;
// the verified change is test/integration/recovery/recovery.test.ts's.
beforeAll(async () => { server = await startTestServer({ env: { ACCOUNT_EMAIL_VERIFICATION: 'none' } }); });
afterAll(async () => { await server?.close(); });


describe('session transport', () => {
  it('a browser gets an HttpOnly, SameSite=Lax, Path=/ cookie without Secure on localhost, and no need for the bearer', async () => {
    await signedUpUser(server, 'cookie@example.com');
    const browser = server.browser();
    const res = await browser.gql(`mutation($input: CredentialsInput!) { login(input: $input) { __typename } }`, { input: { email: 'cookie@example.com', password: PASSWORD } });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tessera_session='));
    const attributes = cookie!.split(';').map((s) => s.trim());
    expect(attributes[0]).toMatch(/^tessera_session=[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']));
    expect(attributes).not.toContain('Secure');
    expect((await browser.gql(ME)).data.me.email).toBe('cookie@example.com');
    // Only the token's hash is stored.
    const [row] = await server.app.db.query(`select token_hash from proj.sessions where token_hash = $1`, [hashToken(browser.cookie!)]);
    expect(row).toBeDefined();
    const [clear] = await server.app.db.query(`select 1 from events where data::text like $1`, [`%${browser.cookie}%`]);
    expect(clear).toBeUndefined();
  });

  it('an app client uses the sessionToken as a bearer', async () => {
    await signedUpUser(server, 'bearer@example.com');
    const result = await login(server.appClient(), 'bearer@example.com');
    const client = server.appClient(result.sessionToken);
    expect((await client.gql(ME)).data.me.email).toBe('bearer@example.com');
    expect((await server.appClient('x'.repeat(43)).gql(ME)).data.me).toBeNull();
  });

  it('marks the cookie Secure when PUBLIC_ORIGIN is https', async () => {
    const secure = await startTestServer({ env: { PUBLIC_ORIGIN: 'https://auth.example.com' } });
    try {
      await signedUpUser(secure, 'secure@example.com');
      const res = await secure.browser().gql(`mutation($input: CredentialsInput!) { login(input: $input) { __typename } }`, { input: { email: 'secure@example.com', password: PASSWORD } });
      expect(res.headers.getSetCookie()[0]!.split(';').map((s) => s.trim())).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Lax']));
    } finally {
      await secure.close();
    }
  });
});

describe('session lifetime', () => {
  it('ends after 1 h idle: me is null and SessionExpired(idle) is written', async () => {
    const client = await signedUpUser(server, 'idle@example.com');
    const sessionId = (await client.gql(AUTH_STATE)).data.authState.session.id;
    server.clock.advance(59 * MINUTE);
    expect((await client.gql(ME)).data.me).not.toBeNull();
    server.clock.advance(HOUR);
    expect((await client.gql(ME)).data.me).toBeNull();
    const expired = (await eventsOfType(server, 'SessionExpired')).filter((e) => e.data.sessionId === sessionId);
    expect(expired.map((e) => e.data.reason)).toEqual(['idle']);
    expect((await sessionRow(server, sessionId))!.end_reason).toBe('idle');
    // A later request with the dead token writes nothing more.
    await client.gql(ME);
    expect((await eventsOfType(server, 'SessionExpired')).filter((e) => e.data.sessionId === sessionId)).toHaveLength(1);
  });

  it('ends after 24 h however active: SessionExpired(absolute)', async () => {
    const client = await signedUpUser(server, 'absolute@example.com');
    const sessionId = (await client.gql(AUTH_STATE)).data.authState.session.id;
    for (let elapsed = 30; elapsed < 24 * 60; elapsed += 30) {
      server.clock.advance(30 * MINUTE);
      expect((await client.gql(ME)).data.me, `at ${elapsed} min`).not.toBeNull();
    }
    server.clock.advance(30 * MINUTE);
    expect((await client.gql(ME)).data.me).toBeNull();
    expect((await eventsOfType(server, 'SessionExpired')).filter((e) => e.data.sessionId === sessionId).map((e) => e.data.reason)).toEqual(['absolute']);
  });

  it('records activity at most once per 5 minutes, and lastSeenAt follows it', async () => {
    const client = await signedUpUser(server, 'activity@example.com');
    const sessionId = (await client.gql(AUTH_STATE)).data.authState.session.id;
    const startedAt = server.clock.now().getTime();
    for (let i = 0; i < 5; i++) await client.gql(ME); // same instant: nothing to record
    for (let minute = 1; minute <= 20; minute++) {
      server.clock.advance(MINUTE);
      await client.gql(ME);
      await client.gql(ME);
    }
    const recorded = (await eventsOfType(server, 'SessionActivityRecorded')).filter((e) => e.data.sessionId === sessionId);
    expect(recorded.map((e) => (new Date(e.data.at).getTime() - startedAt) / MINUTE)).toEqual([5, 10, 15, 20]);
    const me = (await client.gql(ME)).data.me;
    const current = me.sessions.find((s: any) => s.isCurrent);
    expect(new Date(current.lastSeenAt).getTime()).toBe(startedAt + 20 * MINUTE);
    // The request that records activity sees its own lastSeenAt.
    server.clock.advance(5 * MINUTE);
    const state = (await client.gql(`{ authState { session { lastSeenAt } } }`)).data.authState;
    expect(new Date(state.session.lastSeenAt).getTime()).toBe(startedAt + 25 * MINUTE);
  });
});

describe('ending and rotating sessions', () => {
  it('reauthenticate rotates the token: the old one is dead, the new one works', async () => {
    const client = await signedUpUser(server, 'rotate@example.com');
    const oldToken = client.token!;
    const result = (await client.gql(REAUTHENTICATE, { password: PASSWORD })).data.reauthenticate;
    expect(result.__typename).toBe('AuthPayload');
    expect(result.sessionToken).not.toBe(oldToken);
    expect((await server.appClient(oldToken).gql(ME)).data.me).toBeNull();
    expect((await server.appClient(result.sessionToken).gql(ME)).data.me.email).toBe('rotate@example.com');
    // The cookie variant gets the new token as a cookie.
    const browser = server.browser();
    await login(browser, 'rotate@example.com');
    const oldCookie = browser.cookie!;
    await browser.gql(REAUTHENTICATE, { password: PASSWORD });
    expect(browser.cookie).not.toBe(oldCookie);
    expect((await browser.gql(ME)).data.me).not.toBeNull();
    expect((await server.appClient(oldCookie).gql(ME)).data.me).toBeNull();
  });

  it('a wrong password does not reauthenticate and does not rotate', async () => {
    const client = await signedUpUser(server, 'wrongreauth@example.com');
    const res = (await client.gql(REAUTHENTICATE, { password: 'not my password at all' })).data.reauthenticate;
    expect(res).toMatchObject({ __typename: 'AuthError', code: 'INVALID_CREDENTIALS' });
    expect((await client.gql(ME)).data.me).not.toBeNull();
  });

  it('logout ends the session for the next request', async () => {
    const client = await signedUpUser(server, 'logout@example.com');
    const sessionId = (await client.gql(AUTH_STATE)).data.authState.session.id;
    expect((await client.gql(LOGOUT)).data.logout.ok).toBe(true);
    expect((await client.gql(ME)).data.me).toBeNull();
    expect((await eventsOfType(server, 'SessionRevoked')).filter((e) => e.data.sessionId === sessionId).map((e) => e.data.reason)).toEqual(['logout']);
  });

  it('revokeSessions ends the named sessions of the caller, lists isCurrent, and ignores another user\'s ids', async () => {
    const first = await signedUpUser(server, 'multi@example.com');
    const second = server.appClient((await login(server.appClient(), 'multi@example.com')).sessionToken);
    const me = (await first.gql(ME)).data.me;
    expect(me.sessions).toHaveLength(2);
    const current = me.sessions.filter((s: any) => s.isCurrent);
    expect(current).toHaveLength(1);
    const secondId = me.sessions.find((s: any) => !s.isCurrent).id;

    const stranger = await signedUpUser(server, 'stranger@example.com');
    const strangerSession = (await stranger.gql(AUTH_STATE)).data.authState.session.id;
    const attack = (await first.gql(REVOKE_SESSIONS, { ids: [strangerSession] })).data.revokeSessions;
    expect(attack).toEqual({ __typename: 'RevokeSessionsPayload', revokedIds: [] });
    expect((await stranger.gql(ME)).data.me).not.toBeNull();
    expect((await eventsOfType(server, 'SessionRevoked')).filter((e) => e.data.sessionId === strangerSession)).toHaveLength(0);

    expect((await first.gql(REVOKE_SESSIONS, { ids: [secondId] })).data.revokeSessions.revokedIds).toEqual([secondId]);
    expect((await second.gql(ME)).data.me).toBeNull();
    expect((await first.gql(ME)).data.me.sessions.map((s: any) => s.id)).toEqual([current[0].id]);
    // Revoking it again is a no-op, not an error and not a second event.
    expect((await first.gql(REVOKE_SESSIONS, { ids: [secondId] })).data.revokeSessions.revokedIds).toEqual([]);
    expect((await eventsOfType(server, 'SessionRevoked')).filter((e) => e.data.sessionId === secondId)).toHaveLength(1);
  });
});

describe('sensitive changes', () => {
  it('need a reauthentication 5 minutes after login; after it they work', async () => {
    const client = await signedUpUser(server, 'sensitive@example.com');
    server.clock.advance(5 * MINUTE);
    expect((await client.gql(CHANGE_PASSWORD, { current: PASSWORD, next: 'a brand new passphrase' })).data.changePassword.code).toBe('REAUTHENTICATION_REQUIRED');
    expect((await client.gql(CHANGE_EMAIL, { email: 'sensitive2@example.com' })).data.changeEmail.code).toBe('REAUTHENTICATION_REQUIRED');
    expect((await client.gql(DELETE_ACCOUNT)).data.deleteAccount.code).toBe('REAUTHENTICATION_REQUIRED');
    await client.gql(REAUTHENTICATE, { password: PASSWORD });
    expect((await client.gql(CHANGE_EMAIL, { email: 'Sensitive2@Example.com' })).data.changeEmail).toEqual({ __typename: 'User', email: 'sensitive2@example.com' });
    expect((await login(server.appClient(), 'sensitive2@example.com')).__typename).toBe('AuthPayload');
    expect((await login(server.appClient(), 'sensitive@example.com')).code).toBe('INVALID_CREDENTIALS');
    server.clock.advance(5 * MINUTE);
    expect((await client.gql(CHANGE_EMAIL, { email: 'sensitive3@example.com' })).data.changeEmail.code).toBe('REAUTHENTICATION_REQUIRED');
    await client.gql(REAUTHENTICATE, { password: PASSWORD });
    expect((await client.gql(DELETE_ACCOUNT)).data.deleteAccount.ok).toBe(true);
    expect((await client.gql(ME)).data.me).toBeNull();
    expect((await login(server.appClient(), 'sensitive2@example.com')).code).toBe('INVALID_CREDENTIALS');
    // The address is free again.
    expect((await signedUpUser(server, 'sensitive2@example.com')).token).toBeTruthy();
  });

  it('changePassword ends the other sessions but not the current one', async () => {
    const current = await signedUpUser(server, 'changepw@example.com');
    const other = server.appClient((await login(server.appClient(), 'changepw@example.com')).sessionToken);
    const result = (await current.gql(CHANGE_PASSWORD, { current: PASSWORD, next: 'a brand new passphrase' })).data.changePassword;
    expect(result).toEqual({ __typename: 'ChangePasswordPayload', endedSessionCount: 1 });
    expect((await other.gql(ME)).data.me).toBeNull();
    expect((await current.gql(ME)).data.me).not.toBeNull();
    expect((await eventsOfType(server, 'PasswordChanged')).at(-1)!.data.reason).toBe('changed');
    expect((await login(server.appClient(), 'changepw@example.com')).code).toBe('INVALID_CREDENTIALS');
    expect((await login(server.appClient(), 'changepw@example.com', 'a brand new passphrase')).__typename).toBe('AuthPayload');
  });

  it('changePassword with a wrong current password or a weak new one changes nothing', async () => {
    const client = await signedUpUser(server, 'changepw2@example.com');
    expect((await client.gql(CHANGE_PASSWORD, { current: 'wrong password here', next: 'a brand new passphrase' })).data.changePassword.code).toBe('INVALID_CREDENTIALS');
    expect((await client.gql(CHANGE_PASSWORD, { current: PASSWORD, next: 'short' })).data.changePassword.code).toBe('WEAK_PASSWORD');
    expect((await login(server.appClient(), 'changepw2@example.com')).__typename).toBe('AuthPayload');
  });

  it('for a user with a factor, an AAL1 session gets MFA_REQUIRED even when freshly reauthenticated', async () => {
    const client = await signedUpUser(server, 'factor@example.com'); // AAL1: started before the factor existed
    await giveTotpFactor(server, await userIdOf(server, 'factor@example.com'));
    await client.gql(REAUTHENTICATE, { password: PASSWORD });
    expect((await client.gql(CHANGE_PASSWORD, { current: PASSWORD, next: 'a brand new passphrase' })).data.changePassword.code).toBe('MFA_REQUIRED');
    expect((await client.gql(CHANGE_EMAIL, { email: 'factor2@example.com' })).data.changeEmail.code).toBe('MFA_REQUIRED');
    expect((await client.gql(DELETE_ACCOUNT)).data.deleteAccount.code).toBe('MFA_REQUIRED');
    expect((await client.gql(ME)).data.me.email).toBe('factor@example.com');
  });
});
