// /metrics (issue 20 item 4) over real HTTP after real logins: the counters move with what users did (password and
// passkey-free logins, TOTP steps right and wrong, a lock and the refusal it causes), the scrape needs the bearer
// token when METRICS_TOKEN is set, and production without a token serves no metrics at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, codeAt, fastArgon, loginMutation, PASSWORD, pendingLogin, T0, userWithTotp } from '../totp/helpers.js';

const token = 'scrape-token-0123456789abcdef-metrics';

/** The value of one sample of the text format, 0 when the series has not appeared yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  return 0;
}

describe('/metrics', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ now: new Date(T0), env: { ...fastArgon, METRICS_TOKEN: token, LOCKOUT_BACKOFF_AFTER: '3', LOCKOUT_LOCK_AFTER: '3' } });
  });
  afterAll(() => server.close());

  async function scrape(): Promise<string> {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  }

  it('refuses a scrape without the token or with a wrong one', async () => {
    const none = await fetch(`${server.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain('tessera_');
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}x` } });
    expect(wrong.status).toBe(401);
    const cookieOnly = await fetch(`${server.url}/metrics`, { headers: { cookie: `token=${token}` } });
    expect(cookieOnly.status).toBe(401);
  });

  it('counts logins, MFA steps, locks, refusals and appends after real logins, and shows the outbox and the pool', async () => {
    const before = await scrape();
    // A password-only user: one successful login, then wrong passwords until the lock, then a refusal.
    const plain = await signedUpUser(server, 'plain@example.com', PASSWORD);
    expect((await server.appClient().gql(loginMutation, { email: plain.email, password: PASSWORD })).data.login.__typename).toBe('AuthPayload');
    // A TOTP user: a login that stops at the MFA step, a wrong code, then the right one.
    server.clock.set(T0);
    const totp = await userWithTotp(server, 'totp@example.com');
    server.clock.set(T0 + 60_000);
    const pending = await pendingLogin(server, totp.email);
    expect((await pending.gql(authenticateMfaMutation, { code: '000000' === (await codeAt(totp.secret, T0 + 60_000)) ? '111111' : '000000' })).data.authenticateMfa.code).toBe('INVALID_CODE');
    expect((await pending.gql(authenticateMfaMutation, { code: await codeAt(totp.secret, T0 + 60_000) })).data.authenticateMfa.__typename).toBe('AuthPayload');
    const stranger = server.appClient();
    for (let i = 0; i < 3; i++) expect((await stranger.gql(loginMutation, { email: plain.email, password: 'wrong password 1234' })).data.login.code).toBe('INVALID_CREDENTIALS');
    expect((await stranger.gql(loginMutation, { email: plain.email, password: 'wrong password 1234' })).data.login.code).toBe('ACCOUNT_LOCKED');

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}): number => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('tessera_logins_total', { method: 'password', outcome: 'succeeded' })).toBe(1);
    expect(delta('tessera_logins_total', { method: 'password', outcome: 'mfa_required' })).toBe(1);
    expect(delta('tessera_logins_total', { method: 'password', outcome: 'rejected' })).toBe(3);
    expect(delta('tessera_mfa_steps_total', { method: 'totp', outcome: 'succeeded' })).toBe(1);
    expect(delta('tessera_mfa_steps_total', { method: 'totp', outcome: 'failed' })).toBe(1);
    expect(delta('tessera_account_locks_total', { bucket: 'untrusted' })).toBe(1);
    expect(delta('tessera_attempt_refusals_total', { reason: 'ACCOUNT_LOCKED' })).toBe(1);
    expect(delta('tessera_event_append_seconds_count')).toBeGreaterThan(10);
    expect(delta('tessera_events_committed_total')).toBeGreaterThan(10);
    expect(after).toMatch(/^tessera_notification_outbox_depth \d+$/m);
    expect(after).toMatch(/^tessera_notification_dead_letters \d+$/m);
    expect(sample(after, 'tessera_db_pool_max_connections')).toBeGreaterThan(0);
    expect(after).toMatch(/^tessera_db_pool_saturation [0-9.e+-]+$/m);
    // Scraped between requests: nothing hashing, nothing queued.
    expect(sample(after, 'tessera_password_hashes_running')).toBe(0);
    expect(sample(after, 'tessera_password_hashes_waiting')).toBe(0);
    // Labels never carry who: no email, user id or address in the text.
    expect(after).not.toContain('example.com');
    expect(after).not.toContain(totp.userId);
  });
});

describe('/metrics in production without METRICS_TOKEN', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, NODE_ENV: 'production' } });
  });
  afterAll(() => server.close());

  it('is not served', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('tessera_');
  });
});
