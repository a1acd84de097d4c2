// Attack detection over failure events: spraying, stuffing, distributed guessing and MFA failures after a correct
// password are each reported once, with their evidence, as a SuspiciousActivityDetected event that auditors see; 500
// people behind one NAT address who log in (and sometimes mistype) are not an attack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsLag, catchUpAnalytics } from '../../../src/application/analytics.js';
import type { SuspiciousActivityDetected } from '../../../src/domain/detection/events.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { fastArgon } from '../totp/helpers.js';
import { at, Script, userIdOf } from './scenario.js';

const ip = (address: string) => ({ ip: address, userAgent: 'attacker', actor: 'anonymous' });

describe('attack detection', () => {
  let server: TestServer;
  let script: Script;

  beforeAll(async () => {
    server = await startTestServer({ env: fastArgon, now: new Date(at(0, 0)) });
    script = new Script(server.app, server.clock);
    // 600 accounts, signed up on day 0.
    for (let i = 0; i < 600; i++) await script.signup(userIdOf(i), at(0, 1, i % 60));
    await settle();
  }, 180_000);
  afterAll(() => server?.close());

  /** Everything committed is applied (the horizon is cluster-wide: another database's transaction can hold it a moment). */
  async function settle(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      await catchUpAnalytics(server.app);
      if ((await analyticsLag(server.app.db)).events === 0) return;
      if (Date.now() > deadline) throw new Error('the analytics projector did not catch up in 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function detections(): Promise<Array<SuspiciousActivityDetected['data']>> {
    await settle();
    const rows = await server.app.db.query<{ data: SuspiciousActivityDetected['data'] }>(
      `select data from events where type = 'SuspiciousActivityDetected' order by position`,
    );
    return rows.map((r) => r.data);
  }

  it('password spraying: one address failing across 25 accounts is reported once, with the address, the accounts and the window', async () => {
    // Each attack in one transaction, so that the projector sees it whole in one batch and the evidence is exact
    // (live, a detection names what the window held when the threshold was crossed).
    await script.together(async () => {
      for (let i = 0; i < 25; i++) await script.wrongPassword(userIdOf(i), at(1, 10, i), ip('203.0.113.9'));
    });
    // The spray goes on in the same window (and in a later batch): still one report.
    await settle();
    for (let i = 25; i < 35; i++) await script.wrongPassword(userIdOf(i), at(1, 10, i), ip('203.0.113.9'));
    const found = (await detections()).filter((d) => d.kind === 'password_spraying');
    expect(found).toHaveLength(1);
    const [spray] = found;
    expect(spray).toMatchObject({
      addresses: [server.app.personalData.hashes.address('203.0.113.9')], addressCount: 1, network: server.app.personalData.hashes.network('203.0.113.9'), accountCount: 25, failures: 25, successes: 0,
      windowEnd: at(1, 10, 24), windowStart: at(1, 9, 24), throttledUntil: null,
    });
    expect(spray!.accounts).toEqual(Array.from({ length: 25 }, (_, i) => userIdOf(i)).sort());
    // Auditors see it, like every event (the audit projection, which the live feed reads).
    const [audited] = await server.app.db.query<{ type: string; summary: { kind: string } }>(`select type, summary from proj.audit_events where type = 'SuspiciousActivityDetected'`);
    expect(audited).toMatchObject({ type: 'SuspiciousActivityDetected', summary: { kind: 'password_spraying' } });
  });

  it('credential stuffing: 60 accounts tried once or twice each from 30 networks is reported once; no spraying or guessing', async () => {
    await script.together(async () => {
      for (let i = 0; i < 60; i++) {
        const address = `10.${i % 30}.7.${i % 30}`;
        await script.wrongPassword(userIdOf(100 + i), at(2, 10, i % 60), ip(address));
        if (i % 3 === 0) await script.wrongPassword(userIdOf(100 + i), at(2, 10, i % 60), ip(`10.${(i + 1) % 30}.7.${(i + 1) % 30}`));
      }
    });
    const found = (await detections()).filter((d) => d.windowEnd.startsWith(at(2, 0).slice(0, 10)));
    expect(found.map((d) => d.kind)).toEqual(['credential_stuffing']);
    expect(found[0]).toMatchObject({ accountCount: 60, addressCount: 30, failures: 80 });
    expect(found[0]!.addresses).toHaveLength(30);
  });

  it('distributed guessing: one account failing from 12 networks is reported once', async () => {
    await script.together(async () => {
      for (let i = 0; i < 12; i++) await script.wrongPassword(userIdOf(200), at(3, 10, i), ip(`172.16.${i}.1`));
    });
    const found = (await detections()).filter((d) => d.windowEnd.startsWith(at(3, 0).slice(0, 10)));
    expect(found.map((d) => d.kind)).toEqual(['distributed_guessing']);
    expect(found[0]).toMatchObject({ accounts: [userIdOf(200)], accountCount: 1, addressCount: 12, failures: 12, subject: `account:${userIdOf(200)}` });
  });

  it('MFA failures after a correct password (a stolen password): reported once for the account', async () => {
    await script.together(() => script.wrongCodes(userIdOf(300), 6, at(4, 10), at(4, 10, 20), ip('198.51.100.200')));
    const found = (await detections()).filter((d) => d.windowEnd.startsWith(at(4, 0).slice(0, 10)));
    expect(found.map((d) => d.kind)).toEqual(['mfa_failures_after_password']);
    expect(found[0]).toMatchObject({ accounts: [userIdOf(300)], addresses: [server.app.personalData.hashes.address('198.51.100.200')], failures: 6 });
  });

  it('500 logins of different users behind one NAT address, 30 of them after a typo, are not flagged', async () => {
    const before = (await detections()).length;
    const nat = new Script(server.app, server.clock, ip('192.0.2.44'));
    for (let i = 0; i < 500; i++) {
      const when = at(5, 9, Math.floor(i / 10));
      if (i % 17 === 0) await nat.wrongPassword(userIdOf(i), when);
      await nat.login(userIdOf(i), ['password'], when);
    }
    expect((await detections()).length).toBe(before);
    const [row] = await server.app.db.query<{ failures: number; successes: number; accounts: number }>(
      `select count(*) filter (where outcome = 'failure')::int as failures, count(*) filter (where outcome = 'success')::int as successes,
              count(distinct account) filter (where outcome = 'failure')::int as accounts
         from analytics_data.attempts where at >= $1 and at < $2`, [at(5, 0), at(6, 0)],
    );
    // Enough failing accounts from one address to look like a spray by count alone: the successes tell it apart.
    expect(row).toEqual({ failures: 30, successes: 500, accounts: 30 });
  });
});

describe('attack detection: throttling the spraying range (DETECT_THROTTLE_SECONDS)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, DETECT_THROTTLE_SECONDS: '600', TRUST_PROXY: '127.0.0.1,::1' }, now: new Date(at(1, 9)) });
  });
  afterAll(() => server?.close());

  const login = (from: string) => server.appClient().gql(
    `mutation { login(input: { email: "nobody@example.com", password: "not the password" }) { __typename ... on AuthError { code retryAfterSeconds } } }`,
    undefined, { headers: { 'x-forwarded-for': from } },
  );

  it('after a spray, every address of its /24 gets RATE_LIMITED until the throttle ends; other networks do not', async () => {
    const script = new Script(server.app, server.clock);
    for (let i = 0; i < 25; i++) await script.signup(userIdOf(i), at(1, 9, i));
    await script.together(async () => {
      for (let i = 0; i < 25; i++) await script.wrongPassword(userIdOf(i), at(1, 10, i), ip('203.0.113.9'));
    });
    for (const deadline = Date.now() + 30_000; ;) {
      await catchUpAnalytics(server.app);
      if ((await analyticsLag(server.app.db)).events === 0 || Date.now() > deadline) break;
    }
    const [event] = await server.app.db.query<{ data: SuspiciousActivityDetected['data'] }>(`select data from events where type = 'SuspiciousActivityDetected'`);
    expect(event!.data).toMatchObject({ kind: 'password_spraying', throttledUntil: new Date(Date.parse(at(1, 10, 24)) + 600_000).toISOString() });
    expect(event!.data.throttledNetwork).toBe(server.app.personalData.hashes.network('203.0.113.9'));
    server.clock.set(new Date(at(1, 10, 30)));
    expect((await login('203.0.113.77')).data.login).toEqual({ __typename: 'AuthError', code: 'RATE_LIMITED', retryAfterSeconds: 240 });
    expect((await login('198.51.100.1')).data.login).toMatchObject({ __typename: 'AuthError', code: 'INVALID_CREDENTIALS' });
    server.clock.set(new Date(at(1, 10, 35)));
    expect((await login('203.0.113.77')).data.login).toMatchObject({ __typename: 'AuthError', code: 'INVALID_CREDENTIALS' });
  });
});
