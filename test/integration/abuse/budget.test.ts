// One budget per account on every path, per-address limits and lockout, over real HTTP (issue 6).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { manualClock } from '../../../src/domain/shared/clock.js';
import { startServer } from '../../../src/graphql/server.js';
import { accountStanding } from '../../../src/projections/accountFailures.js';
import { addressBucket, createClientAddressResolver } from '../../../src/security/clientAddress.js';
import { createMemoryAttemptBudget } from '../../../src/security/attempts.js';
import { createTestDatabase } from '../../helpers/db.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';

const login = `mutation($input: CredentialsInput!) { login(input: $input) { __typename ... on Error { code } ... on AuthError { retryAfterSeconds } } }`;
const reauthenticate = `mutation($input: ReauthenticateInput!) { reauthenticate(input: $input) { __typename ... on Error { code } ... on AuthError { retryAfterSeconds } } }`;

async function countEvents(server: { app: TestServer['app'] }, type: string, userId?: string): Promise<number> {
  const rows = await server.app.db.query<{ n: string }>(
    `select count(*)::text as n from events where type = $1 and ($2::text is null or data->>'userId' = $2)`, [type, userId ?? null],
  );
  return Number(rows[0]!.n);
}

async function userIdOf(server: TestServer, email: string): Promise<string> {
  const [row] = await server.app.db.query<{ user_id: string }>(`select user_id from proj.users where email_hash = $1`, [server.app.personalData.hashes.email(email)]);
  return row!.user_id;
}

const servers: TestServer[] = [];
async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}
afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('one attempt budget per account', () => {
  it('200 parallel wrong passwords for one account: at most the budget is evaluated', async () => {
    const s = await server({ env: { ATTEMPTS_PER_IP: '100000' } });
    const victim = await signedUpUser(s, 'parallel@example.com');
    const userId = await userIdOf(s, victim.email);
    const answers = await Promise.all(Array.from({ length: 200 }, () => s.appClient().gql(login, { input: { email: victim.email, password: 'wrong password 1' } })));
    const codes = answers.map((a) => a.data.login.code);
    expect(codes.filter((c) => c === 'INVALID_CREDENTIALS').length).toBeLessThanOrEqual(10);
    expect(await countEvents(s, 'PasswordRejected', userId)).toBeLessThanOrEqual(10);
  });

  it('rotating client addresses against one account does not buy more attempts', async () => {
    const s = await server({ env: { TRUST_PROXY: '127.0.0.1,::1', ATTEMPTS_PER_IP: '1' } });
    const victim = await signedUpUser(s, 'rotate@example.com');
    const userId = await userIdOf(s, victim.email);
    await Promise.all(Array.from({ length: 60 }, (_, i) =>
      s.appClient().gql(login, { input: { email: victim.email, password: 'wrong password 1' } }, { headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } })));
    expect(await countEvents(s, 'PasswordRejected', userId)).toBeLessThanOrEqual(10);
  });

  it('a spoofed X-Forwarded-For is ignored without TRUST_PROXY: the socket address is limited', async () => {
    const s = await server({ env: { ATTEMPTS_PER_IP: '5' } });
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      // A different unknown email each time: only the per-address limit can stop this.
      const res = await s.appClient().gql(login, { input: { email: `nobody${i}@example.com`, password: 'wrong password 1' } }, { headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } });
      codes.push(res.data.login.code);
    }
    expect(codes.slice(0, 5).every((c) => c === 'INVALID_CREDENTIALS')).toBe(true);
    expect(codes.slice(5).every((c) => c === 'RATE_LIMITED')).toBe(true);
  });

  it('with TRUST_PROXY the right-most untrusted hop is the client, and a forged left part changes nothing', () => {
    const resolver = createClientAddressResolver(['10.0.0.0/8']);
    expect(resolver.resolve('10.1.2.3', '1.1.1.1, 203.0.113.9, 10.9.9.9')).toBe('203.0.113.9');
    expect(resolver.resolve('192.0.2.1', '203.0.113.9')).toBe('192.0.2.1'); // not from a trusted proxy: header ignored
  });

  it('IPv6 rotation within one /64 shares one address budget', async () => {
    expect(addressBucket('2001:db8:1:2::1')).toBe(addressBucket('2001:db8:1:2:ffff:ffff:ffff:fffe'));
    expect(addressBucket('2001:db8:1:2::1')).not.toBe(addressBucket('2001:db8:1:3::1'));
    const budget = createMemoryAttemptBudget({ accountPoints: 1000, ipPoints: 3 });
    for (let i = 1; i <= 3; i++) await budget.consume(`email:x${i}@example.com`, `2001:db8:1:2::${i.toString(16)}`);
    await expect(budget.consume('email:x4@example.com', '2001:db8:1:2:abcd::4')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(budget.consume('email:x5@example.com', '2001:db8:1:3::5')).resolves.toBeUndefined();
  });
});

describe('lockout from events', () => {
  async function lockedOut(s: TestServer, email: string) {
    const victim = await signedUpUser(s, email);
    for (let i = 0; i < 10; i++) {
      if (i > 0) s.clock.advance(61_000); // past any back-off
      await s.appClient().gql(login, { input: { email, password: 'wrong password 1' } });
    }
    return victim;
  }

  it('locked for strangers: refused on the password path and on reauthenticate from an unknown device, even with the right password; the owner\'s own device is not locked', async () => {
    const s = await server({ attempts: createMemoryAttemptBudget({ accountPoints: 1000, ipPoints: 1000 }) });
    const victim = await lockedOut(s, 'locked@example.com');
    const userId = await userIdOf(s, victim.email);
    expect(await countEvents(s, 'UserLocked', userId)).toBe(1);
    const byLogin = await s.appClient().gql(login, { input: { email: victim.email, password: victim.password } });
    expect(byLogin.data.login).toMatchObject({ code: 'ACCOUNT_LOCKED' });
    expect(byLogin.data.login.retryAfterSeconds).toBeGreaterThan(0);
    // The same session driven from a device the account does not know draws on the strangers' bucket: locked.
    const elsewhere = s.appClient(victim.token);
    const byReauthElsewhere = await elsewhere.gql(reauthenticate, { input: { password: victim.password } });
    expect(byReauthElsewhere.data.reauthenticate).toMatchObject({ code: 'ACCOUNT_LOCKED' });
    // The victim's session on the device it signed up from: a known device, with a bucket of its own.
    const byReauth = await victim.gql(reauthenticate, { input: { password: victim.password } });
    expect(byReauth.data.reauthenticate.__typename).toBe('AuthPayload');
  });

  it('the lock ends by itself: UserUnlocked(timeout) is written by the next attempt after it runs out', async () => {
    const s = await server({ attempts: createMemoryAttemptBudget({ accountPoints: 1000, ipPoints: 1000 }) });
    const victim = await lockedOut(s, 'unlock@example.com');
    const userId = await userIdOf(s, victim.email);
    s.clock.advance(14 * 60_000);
    expect((await s.appClient().gql(login, { input: { email: victim.email, password: victim.password } })).data.login.code).toBe('ACCOUNT_LOCKED');
    expect(await countEvents(s, 'UserUnlocked', userId)).toBe(0);
    s.clock.advance(2 * 60_000);
    expect((await s.appClient().gql(login, { input: { email: victim.email, password: victim.password } })).data.login.__typename).toBe('AuthPayload');
    const [unlocked] = await s.app.db.query<{ data: { by: string } }>(`select data from events where type = 'UserUnlocked' and data->>'userId' = $1`, [userId]);
    expect(unlocked?.data.by).toBe('timeout');
  });

  it("an attacker's own success elsewhere resets nothing of the victim's count", async () => {
    const s = await server({ attempts: createMemoryAttemptBudget({ accountPoints: 1000, ipPoints: 1000 }) });
    const victim = await signedUpUser(s, 'victim@example.com');
    const attacker = await signedUpUser(s, 'attacker@example.com');
    const victimId = await userIdOf(s, victim.email);
    for (let i = 0; i < 4; i++) await s.appClient().gql(login, { input: { email: victim.email, password: 'wrong password 1' } });
    const own = await s.appClient().gql(login, { input: { email: attacker.email, password: attacker.password } });
    expect(own.data.login.__typename).toBe('AuthPayload');
    expect((await accountStanding(s.app.db, victimId, 'untrusted')).consecutive).toBe(4);
    await s.appClient().gql(login, { input: { email: victim.email, password: 'wrong password 1' } });
    // Five in a row: the next attempt waits (back-off), right password or not.
    expect((await s.appClient().gql(login, { input: { email: victim.email, password: victim.password } })).data.login.code).toBe('RATE_LIMITED');
  });
});

describe('several instances', () => {
  it('two app instances on one PostgreSQL and one Redis share the budget', async () => {
    const redisUrl = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';
    const prefix = `tessera-test-${randomBytes(6).toString('hex')}`;
    const database = await createTestDatabase();
    const env = { NODE_ENV: 'test', PORT: '0', DATA_DIR: '.data/test', REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, ATTEMPTS_PER_IP: '100000' };
    const clock = manualClock();
    const a = await createApp({ config: loadConfig(env), db: database.db, clock });
    const b = await createApp({ config: loadConfig(env), db: database.reopen(), clock });
    const [ra, rb] = [await startServer(a, { port: 0, host: '127.0.0.1' }), await startServer(b, { port: 0, host: '127.0.0.1' })];
    const post = (url: string, query: string, variables: unknown) =>
      fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) }).then((r) => r.json() as Promise<any>);
    try {
      const signup = await post(ra.url, `mutation($input: CredentialsInput!) { signup(input: $input) { __typename } }`, { input: { email: 'shared@example.com', password: 'correct horse battery staple' } });
      expect(signup.data.signup.__typename).toBe('AuthPayload');
      await Promise.all(Array.from({ length: 60 }, (_, i) => post(i % 2 ? ra.url : rb.url, login, { input: { email: 'shared@example.com', password: 'wrong password 1' } })));
      const [row] = await a.db.query<{ n: string }>(`select count(*)::text as n from events where type = 'PasswordRejected'`);
      expect(Number(row!.n)).toBeLessThanOrEqual(10);
    } finally {
      await ra.close();
      await rb.close();
      await a.close();
      await b.close().catch(() => {});
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await database.drop();
    }
  });
});
