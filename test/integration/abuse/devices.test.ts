// Devices (issue 13): an attacker who knows only an email cannot lock its owner out of the browser the owner used
// before; strangers share one budget and one lock; "trust this device" skips the MFA step on that device alone; new
// devices are told from the log, and every device view is rebuilt from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, codeAt, loginMutation, PASSWORD, userWithTotp } from '../totp/helpers.js';
import { fastArgon, softKey } from '../webauthn/helpers.js';

const trustDevice = `mutation($trust: Boolean!) { trustDevice(input: { trust: $trust }) { __typename ... on TrustDevicePayload { trusted } ... on Error { code } } }`;
const devicesQuery = `{ me { devices { id name trusted firstSeenAt lastSeenAt current } sessions { isCurrent device { id trusted } } } }`;
const authStateQuery = `{ authState { isAuthenticated flows { id isPending } session { aal methods { method } } } }`;
const revokeTrust = `mutation($ids: [ID!]!) { revokeDeviceTrust(input: { ids: $ids }) { __typename ... on RevokeDeviceTrustPayload { revokedIds } ... on Error { code } } }`;
const changePassword = `mutation($current: String!, $next: String!) { changePassword(input: { currentPassword: $current, newPassword: $next }) { __typename ... on Error { code } } }`;
const signOutEverywhere = `mutation { signOutEverywhere { __typename ... on SignOutEverywherePayload { endedSessionCount } ... on Error { code } } }`;

const DAY = 86_400_000;

/** A request from another address each time (the test server believes X-Forwarded-For from loopback). */
let hop = 0;
const fromElsewhere = (): Record<string, string> => ({ 'x-forwarded-for': `203.0.113.${(hop++ % 250) + 1}` });

async function loginWithCode(server: TestServer, client: GraphQLClient, email: string, secret: string) {
  const first = (await client.gql(loginMutation, { email, password: PASSWORD })).data.login;
  if (first.__typename !== 'AuthPayload') return first;
  const flows = first.authState.flows.map((f: { id: string }) => f.id);
  if (!flows.includes('MFA_AUTHENTICATE')) return first;
  server.clock.advance(30_000);
  return (await client.gql(authenticateMfaMutation, { code: await codeAt(secret, server.clock.now().getTime()) })).data.authenticateMfa;
}

describe('a lockout that strangers cannot turn against the owner', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, TRUST_PROXY: '127.0.0.1,::1' } });
  });
  afterAll(() => server.close());

  it('200 wrong passwords and wrong codes from rotating addresses: the owner on yesterday\'s browser gets in at once; on a new browser, not', async () => {
    const victim = await userWithTotp(server, 'victim@example.com'); // its app client's device is known to the account
    server.clock.advance(DAY);
    for (let i = 0; i < 200; i++) {
      const attacker = server.appClient();
      if (i % 4 === 0) {
        // Knows the password: pending logins, then wrong codes.
        const pending = await attacker.gql(loginMutation, { email: victim.email, password: PASSWORD }, { headers: fromElsewhere() });
        if (pending.data.login.__typename === 'AuthPayload') await attacker.gql(authenticateMfaMutation, { code: '000000' }, { headers: fromElsewhere() });
      } else {
        await attacker.gql(loginMutation, { email: victim.email, password: `wrong guess ${i}` }, { headers: fromElsewhere() });
      }
    }
    const newBrowser = await server.appClient().gql(loginMutation, { email: victim.email, password: PASSWORD }, { headers: fromElsewhere() });
    expect(['RATE_LIMITED', 'ACCOUNT_LOCKED']).toContain(newBrowser.data.login.code);
    const owner = await loginWithCode(server, victim.client, victim.email, victim.secret);
    expect(owner.authState).toMatchObject({ isAuthenticated: true, session: { aal: 2 } });
  });

  it('a passkey-only account cannot be locked by password attempts', async () => {
    const signupServer = await startTestServer({ env: { ...fastArgon, PASSKEY_SIGNUP_ENABLED: 'true', TRUST_PROXY: '127.0.0.1,::1' } });
    try {
      const owner = signupServer.appClient();
      const key = softKey(signupServer);
      const begun = (await owner.gql(`mutation { beginPasskeySignup(input: { email: "keyonly@example.com" }) { ... on PasskeySignupOptions { creationOptions ceremonyToken } } }`)).data.beginPasskeySignup;
      const done = await owner.gql(`mutation($c: JSON!, $t: String) { completePasskeySignup(input: { credential: $c, ceremonyToken: $t }) { __typename } }`, { c: key.register(begun.creationOptions), t: begun.ceremonyToken });
      expect(done.data.completePasskeySignup.__typename).toBe('PasskeySignupPayload');
      for (let i = 0; i < 30; i++) {
        signupServer.clock.advance(61_000);
        await signupServer.appClient().gql(loginMutation, { email: 'keyonly@example.com', password: `guess ${i}` }, { headers: fromElsewhere() });
      }
      const [userRow] = await signupServer.app.db.query<{ user_id: string }>(`select user_id from proj.users where email_hash = $1`, [signupServer.app.personalData.hashes.email('keyonly@example.com')]);
      const locks = await signupServer.app.db.query(`select 1 from events where type = 'UserLocked' and data->>'userId' = $1`, [userRow!.user_id]);
      expect(locks).toHaveLength(0);
      const failures = await signupServer.app.db.query(`select 1 from proj.account_failures where user_id = $1 and consecutive > 0`, [userRow!.user_id]);
      expect(failures).toHaveLength(0);
    } finally {
      await signupServer.close();
    }
  });
});

describe('trust this device', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, MFA_TRUST_ENABLED: 'true', MFA_TRUST_COOKIE_AGE_SECONDS: String(14 * 86_400) } });
  });
  afterAll(() => server.close());

  async function trustedBrowser(email: string) {
    const user = await userWithTotp(server, email);
    const browser = server.browser();
    const loggedIn = await loginWithCode(server, browser, email, user.secret);
    expect(loggedIn.authState.session.aal).toBe(2);
    expect((await browser.gql(authStateQuery)).data.authState.flows).toContainEqual({ id: 'MFA_TRUST', isPending: true });
    expect((await browser.gql(trustDevice, { trust: true })).data.trustDevice.trusted).toBe(true);
    expect((await browser.gql(authStateQuery)).data.authState.flows.map((f: { id: string }) => f.id)).not.toContain('MFA_TRUST');
    return { user, browser };
  }

  const passwordOnly = async (client: GraphQLClient, email: string) => (await client.gql(loginMutation, { email, password: PASSWORD })).data.login;

  it('skips the MFA step on that browser within the age (AAL1, methods password and trust), not after it', async () => {
    const { user, browser } = await trustedBrowser('trusting@example.com');
    server.clock.advance(13 * DAY);
    const again = await passwordOnly(browser, user.email);
    expect(again.authState.flows.map((f: { id: string }) => f.id)).not.toContain('MFA_AUTHENTICATE');
    const state = (await browser.gql(authStateQuery)).data.authState;
    expect(state).toMatchObject({ isAuthenticated: true, session: { aal: 1, methods: [{ method: 'password' }, { method: 'trust' }] } });
    const devices = (await browser.gql(devicesQuery)).data.me.devices;
    expect(devices.find((d: { current: boolean }) => d.current)).toMatchObject({ trusted: true, name: expect.any(String) });
    server.clock.advance(2 * DAY);
    expect((await passwordOnly(browser, user.email)).authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');
  });

  it('asks again after the trust is revoked, after a password change, and for another account on the same browser', async () => {
    const { user, browser } = await trustedBrowser('revoking@example.com');
    const deviceId = (await browser.gql(devicesQuery)).data.me.devices.find((d: { current: boolean }) => d.current).id;
    expect((await browser.gql(revokeTrust, { ids: [deviceId] })).data.revokeDeviceTrust.revokedIds).toEqual([deviceId]);
    expect((await passwordOnly(browser, user.email)).authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');

    const second = await trustedBrowser('changing@example.com');
    expect((await second.browser.gql(changePassword, { current: PASSWORD, next: 'a different passphrase' })).data.changePassword.__typename).toBe('ChangePasswordPayload');
    const afterChange = (await second.browser.gql(loginMutation, { email: second.user.email, password: 'a different passphrase' })).data.login;
    expect(afterChange.authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');

    // Trusted for one account, the same browser is nothing special to another.
    const third = await trustedBrowser('first-of-two@example.com');
    await userWithTotp(server, 'second-of-two@example.com');
    expect((await passwordOnly(third.browser, 'second-of-two@example.com')).authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');
  });

  it('cannot be forged: a device cookie with a bad signature is a new device, trusted by nobody', async () => {
    const { user, browser } = await trustedBrowser('forger@example.com');
    const name = [...browser.jar.keys()].find((n) => /tessera_device$/.test(n))!;
    const forged = server.browser();
    const [keyId, deviceId, mac] = browser.jar.get(name)!.split('.');
    forged.jar.set(name, `${keyId}.${deviceId}.${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`);
    expect((await passwordOnly(forged, user.email)).authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');
    expect(forged.jar.get(name)).not.toContain(deviceId);
  });

  it('sign out everywhere ends every session and every trust', async () => {
    const { user, browser } = await trustedBrowser('everywhere@example.com');
    expect((await browser.gql(signOutEverywhere)).data.signOutEverywhere.endedSessionCount).toBeGreaterThanOrEqual(2);
    expect((await user.client.gql(`{ me { id } }`)).data.me).toBeNull();
    expect((await passwordOnly(browser, user.email)).authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');
  });

  it('twenty concurrent submissions of one recovery code on twenty pending logins from one known device: exactly one succeeds', async () => {
    const user = await userWithTotp(server, 'twenty@example.com');
    const token = [...user.client.jar].find(([n]) => /tessera_device$/.test(n))!;
    const pendings = await Promise.all(Array.from({ length: 20 }, async () => {
      const client = server.appClient();
      client.jar.set(token[0], token[1]); // the same device
      await client.gql(loginMutation, { email: user.email, password: PASSWORD });
      return client;
    }));
    const answers = await Promise.all(pendings.map((c) => c.gql(authenticateMfaMutation, { code: user.recoveryCodes[0] })));
    const kinds = answers.map((a) => a.data.authenticateMfa.__typename === 'AuthPayload' ? 'ok' : a.data.authenticateMfa.code);
    expect(kinds.filter((k) => k === 'ok')).toHaveLength(1);
  });
});

describe('devices from the log', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, MFA_TRUST_ENABLED: 'true' } });
  });
  afterAll(() => server.close());

  it('devices, their trust and the lockout state rebuilt from the log equal the live ones', async () => {
    const user = await userWithTotp(server, 'rebuild@example.com');
    const browser = server.browser();
    await loginWithCode(server, browser, user.email, user.secret);
    await browser.gql(trustDevice, { trust: true });
    for (let i = 0; i < 12; i++) {
      server.clock.advance(61_000);
      await server.appClient().gql(loginMutation, { email: user.email, password: `wrong ${i}` });
    }
    await signedUpUser(server, 'other@example.com');
    const snapshot = async () => ({
      devices: await server.app.db.query(`select * from proj.devices order by device_id, user_id`),
      failures: await server.app.db.query(`select * from proj.account_failures order by user_id, bucket`),
      sessions: await server.app.db.query(`select session_id, device_id, trust_pending from proj.sessions order by session_id`),
      users: await server.app.db.query(`select user_id, locked_until from proj.users order by user_id`),
    });
    const live = await snapshot();
    expect(live.devices.length).toBeGreaterThanOrEqual(3);
    expect(live.failures.some((f: any) => f.bucket === 'untrusted' && f.consecutive > 0)).toBe(true);
    await server.app.projections.rebuild();
    expect(await snapshot()).toEqual(live);
  });
});

describe('the operators\' way out', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, LOCKOUT_LOCK_AFTER: '3', LOCKOUT_BACKOFF_AFTER: '3', LOCKOUT_HARD_LIMIT: '4' } });
  });
  afterAll(() => server.close());

  it('tessera users unlock --email ends a lock that has no end (the hard limit), without touching the database', async () => {
    const { runUserCommand } = await import('../../../src/cli/users.js');
    const owner = await signedUpUser(server, 'hardlocked@example.com', PASSWORD);
    for (let i = 0; i < 4; i++) {
      server.clock.advance(16 * 60_000); // past each timed lock
      await server.appClient().gql(loginMutation, { email: owner.email, password: `wrong ${i}` });
    }
    server.clock.advance(365 * DAY);
    expect((await server.appClient().gql(loginMutation, { email: owner.email, password: PASSWORD })).data.login.code).toBe('ACCOUNT_LOCKED');
    const log = console.log;
    console.log = () => {};
    try {
      await runUserCommand(server.app, 'unlock', { email: 'hardlocked@example.com' });
    } finally {
      console.log = log;
    }
    expect((await server.appClient().gql(loginMutation, { email: owner.email, password: PASSWORD })).data.login.__typename).toBe('AuthPayload');
    const [unlocked] = await server.app.db.query<{ data: { by: string } }>(`select data from events where type = 'UserUnlocked' order by position desc limit 1`);
    expect(unlocked!.data.by).toBe('admin');
  });
});

describe('the MFA step\'s standing, read with the pending login\'s token', () => {
  let server: TestServer;
  beforeAll(async () => {
    // A lock after three failures, before the budget (20 per window) refuses anything.
    server = await startTestServer({ env: { ...fastArgon, TRUST_PROXY: '127.0.0.1,::1', ATTEMPTS_PER_ACCOUNT: '20', LOCKOUT_BACKOFF_AFTER: '3', LOCKOUT_LOCK_AFTER: '3' } });
  });
  afterAll(() => server.close());

  it('a lock on the shared bucket refuses a stranger\'s pending login at its MFA step, and not the owner\'s on a known device', async () => {
    const owner = await userWithTotp(server, 'standing@example.com'); // its app client's device is known to the account
    server.clock.advance(DAY);
    const login = async (client: GraphQLClient) => client.gql(loginMutation, { email: owner.email, password: PASSWORD }, { headers: fromElsewhere() });
    // Two pending logins from new devices: one waits, the other fails its code until the shared bucket locks.
    const waiting = server.appClient();
    const guessing = server.appClient();
    expect((await login(waiting)).data.login.authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');
    expect((await login(guessing)).data.login.authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');
    for (let i = 0; i < 3; i++) {
      server.clock.advance(61_000); // past each back-off
      await guessing.gql(authenticateMfaMutation, { code: '000000' }, { headers: fromElsewhere() });
    }
    const [locked] = await server.app.db.query<{ n: number }>(`select count(*)::int as n from events where type = 'UserLocked'`);
    expect(locked!.n).toBe(1);
    // The waiting stranger now has the right code, and is refused: its standing came with its token.
    server.clock.advance(30_000);
    const right = async () => ({ code: await codeAt(owner.secret, server.clock.now().getTime()) });
    const refused = (await waiting.gql(authenticateMfaMutation, await right(), { headers: fromElsewhere() })).data.authenticateMfa;
    expect(refused.code).toBe('ACCOUNT_LOCKED');
    // The owner's own device has its own bucket, untouched by the strangers' failures.
    const mine = await owner.client.gql(loginMutation, { email: owner.email, password: PASSWORD });
    expect(mine.data.login.authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_AUTHENTICATE');
    server.clock.advance(30_000);
    const done = (await owner.client.gql(authenticateMfaMutation, await right())).data.authenticateMfa;
    expect(done.authState).toMatchObject({ isAuthenticated: true, session: { aal: 2 } });
  });
});
