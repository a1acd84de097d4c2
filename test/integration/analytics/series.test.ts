// The analysts' series against a table written by hand: the scripted 50-user, 10-day history (scenario.ts) read
// through GraphQL, the SQL views (as a role granted by `grantAnalyticsRole`, the only way it can read them) and the CSV
// export of the CLI, which must all equal the table exactly — and again after a rebuild of the analysis tables.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchUpAnalytics, compareAnalyticsWithReplay, grantAnalyticsRole, rebuildAnalytics, analyticsLag } from '../../../src/application/analytics.js';
import { grantRole } from '../../../src/application/roles.js';
import { openPostgres } from '../../../src/db/index.js';
import { adminUrl } from '../../helpers/db.js';
import { startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import { fastArgon, userWithTotp } from '../totp/helpers.js';
import { at, day0, runScenario } from './scenario.js';

const system = { clientAddress: 'test', userAgent: 'test', requestId: 'test', actor: 'system' };

/** The CSV's columns (bucket_start left out: the row's index is the day). */
const columns = [
  'logins_password', 'logins_password_totp', 'logins_password_recovery_code', 'logins_password_webauthn', 'logins_passkey', 'logins_trusted_device', 'logins_email_code',
  'outcome_completed', 'outcome_password_rejected', 'outcome_mfa_failed', 'outcome_expired', 'outcome_abandoned',
  'failures', 'backoffs', 'lockouts', 'recovery_codes_used', 'new_device_logins', 'detections',
  'active_sessions', 'active_users',
  'signups', 'first_factors', 'average_seconds_to_enrol',
  'totp_enrolled', 'webauthn_enrolled', 'totp_removed', 'webauthn_removed',
  'users', 'users_with_factor', 'users_with_totp', 'users_with_webauthn',
] as const;

// Worked out by hand from the script in scenario.ts, one line per UTC day (2 to 11 March 2026).
//         logins by method       | outcomes      | failures … detections | active | enrolment   | factors   | adoption at day's end
//         pw pt rc wa pk td ec   | ok rj mf ex ab| fa bo lo rc nd de     | ss us  | su ff avg   | te we tr wr| us uf ut uw
const expected: number[][] = [
  /* d0 */ [2, 1, 1, 1, 0, 0, 0, 5, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 10, 5, 5, 3, 4800, 2, 1, 0, 0, 5, 3, 2, 1],
  /* d1 */ [2, 1, 0, 1, 1, 0, 0, 5, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 15, 10, 5, 3, 4800, 2, 1, 1, 0, 10, 5, 3, 2],
  /* d2 */ [2, 1, 1, 1, 0, 0, 0, 5, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 15, 10, 5, 3, 4800, 2, 1, 1, 0, 15, 7, 4, 3],
  /* d3 */ [2, 1, 0, 1, 1, 0, 0, 5, 11, 0, 0, 0, 11, 6, 1, 0, 1, 0, 15, 10, 5, 3, 4800, 2, 1, 1, 0, 20, 9, 5, 4],
  /* d4 */ [2, 1, 1, 1, 0, 0, 0, 5, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 15, 10, 5, 3, 4800, 2, 1, 1, 0, 25, 11, 6, 5],
  /* d5 */ [2, 1, 0, 1, 1, 1, 0, 6, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 16, 10, 5, 3, 4800, 2, 1, 1, 0, 30, 13, 7, 6],
  /* d6 */ [2, 1, 1, 1, 0, 0, 0, 5, 1, 2, 1, 0, 3, 0, 0, 1, 1, 0, 15, 10, 5, 3, 4800, 2, 1, 1, 0, 35, 15, 8, 7],
  /* d7 */ [2, 1, 0, 1, 1, 0, 0, 5, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 15, 10, 5, 3, 4800, 2, 1, 1, 0, 40, 17, 9, 8],
  /* d8 */ [2, 1, 1, 1, 0, 0, 0, 5, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 15, 10, 5, 3, 4800, 2, 1, 1, 0, 45, 19, 10, 9],
  /* d9 */ [2, 1, 0, 1, 1, 0, 0, 5, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 15, 10, 5, 3, 4800, 2, 1, 1, 0, 49, 20, 10, 10],
];
const expectedRows = expected.map((values) => Object.fromEntries(columns.map((c, i) => [c, values[i]])));

const seriesQuery = `query($from: DateTime!, $to: DateTime!, $bucket: AnalyticsBucket!, $timeZone: String!) {
  sessionAnalytics(from: $from, to: $to, bucket: $bucket, timeZone: $timeZone) {
    __typename ... on Error { code message }
    ... on SessionAnalytics { bucket timeZone lag { events seconds } series {
      start logins loginsByMethod { method count } outcomes { key count } failures backoffs lockouts recoveryCodesUsed newDeviceLogins detections
      activeSessions activeUsers signups firstFactors averageSecondsToEnrol factorsEnrolled { key count } factorsRemoved { key count }
      users usersWithFactor usersWithTotp usersWithWebAuthn mfaAdoption } } } }`;

type Point = {
  start: string; logins: number; loginsByMethod: Array<{ method: string; count: number }>; outcomes: Array<{ key: string; count: number }>;
  failures: number; backoffs: number; lockouts: number; recoveryCodesUsed: number; newDeviceLogins: number; detections: number;
  activeSessions: number; activeUsers: number; signups: number; firstFactors: number; averageSecondsToEnrol: number | null;
  factorsEnrolled: Array<{ key: string; count: number }>; factorsRemoved: Array<{ key: string; count: number }>;
  users: number; usersWithFactor: number; usersWithTotp: number; usersWithWebAuthn: number; mfaAdoption: number;
};

function rowOfPoint(p: Point): Record<string, number> {
  const method = (m: string) => p.loginsByMethod.find((x) => x.method === m)!.count;
  const key = (list: Array<{ key: string; count: number }>, k: string) => list.find((x) => x.key === k)!.count;
  return {
    logins_password: method('password'), logins_password_totp: method('password+totp'), logins_password_recovery_code: method('password+recovery_code'),
    logins_password_webauthn: method('password+webauthn'), logins_passkey: method('passkey'), logins_trusted_device: method('trusted_device'), logins_email_code: method('email_code'),
    outcome_completed: key(p.outcomes, 'completed'), outcome_password_rejected: key(p.outcomes, 'password_rejected'), outcome_mfa_failed: key(p.outcomes, 'mfa_failed'),
    outcome_expired: key(p.outcomes, 'expired'), outcome_abandoned: key(p.outcomes, 'abandoned'),
    failures: p.failures, backoffs: p.backoffs, lockouts: p.lockouts, recovery_codes_used: p.recoveryCodesUsed, new_device_logins: p.newDeviceLogins, detections: p.detections,
    active_sessions: p.activeSessions, active_users: p.activeUsers, signups: p.signups, first_factors: p.firstFactors, average_seconds_to_enrol: p.averageSecondsToEnrol ?? -1,
    totp_enrolled: key(p.factorsEnrolled, 'totp'), webauthn_enrolled: key(p.factorsEnrolled, 'webauthn'), totp_removed: key(p.factorsRemoved, 'totp'), webauthn_removed: key(p.factorsRemoved, 'webauthn'),
    users: p.users, users_with_factor: p.usersWithFactor, users_with_totp: p.usersWithTotp, users_with_webauthn: p.usersWithWebAuthn,
  };
}

describe('session analytics: series, views and CSV equal a table written by hand', () => {
  let server: TestServer;
  let analyst: GraphQLClient;
  let viewer: postgres.Sql;
  const role = `tessera_view_${randomBytes(4).toString('hex')}`;
  let admin: string;

  beforeAll(async () => {
    server = await startTestServer({ env: fastArgon, now: new Date(day0 + 20 * 86400_000) });
    await runScenario(server.app, server.clock);
    server.clock.set(day0 + 20 * 86400_000);
    ({ client: analyst } = await userWithTotp(server, 'analyst@example.com'));
    const me = (await analyst.gql(`{ me { id } }`)).data.me.id as string;
    await grantRole(server.app, me, 'analyst', system);
    admin = (await adminUrl())!;
    const adminDb = openPostgres(server.database.url!, { max: 1 });
    try {
      expect(await grantAnalyticsRole(server.app, adminDb, role)).toBe('created');
      expect(await grantAnalyticsRole(server.app, adminDb, role)).toBe('exists');
    } finally {
      await adminDb.close();
    }
    const url = new URL(server.database.url!);
    url.username = role;
    url.password = '';
    viewer = postgres(url.toString(), { max: 1, onnotice: () => {} });
  }, 120_000);

  afterAll(async () => {
    await viewer?.end();
    await server?.close();
    const sql = postgres(admin, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop role if exists ${role}`).catch(() => {});
    await sql.end();
  });

  async function graphqlRows(): Promise<Array<Record<string, number>>> {
    const res = await analyst.gql(seriesQuery, { from: at(0, 0), to: at(10, 0), bucket: 'DAY', timeZone: 'UTC' });
    const result = res.data.sessionAnalytics;
    expect(result.__typename, JSON.stringify(res)).toBe('SessionAnalytics');
    expect(result.series.map((p: Point) => p.start)).toEqual(Array.from({ length: 10 }, (_, d) => at(d, 0)));
    return result.series.map(rowOfPoint);
  }

  async function viewRows(): Promise<Array<Record<string, number>>> {
    const days = Array.from({ length: 10 }, (_, d) => at(d, 0).slice(0, 10));
    const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
    const byDay = async (query: string) => {
      const rows = await viewer.unsafe(query);
      return (day: string) => rows.filter((r) => (r.day instanceof Date ? r.day.toISOString() : String(r.day)).slice(0, 10) === day);
    };
    const logins = await byDay(`select day::text as day, method, logins from analytics.logins_daily`);
    const outcomes = await byDay(`select day::text as day, outcome, count from analytics.login_outcomes_daily`);
    const security = await byDay(`select day::text as day, * from analytics.security_daily`);
    const active = await byDay(`select day::text as day, sessions, users from analytics.active_sessions_daily`);
    const enrolment = await byDay(`select day::text as day, signups, first_factors, average_seconds_to_enrol from analytics.enrolment_daily`);
    const factors = await byDay(`select day::text as day, factor, enrolled, removed from analytics.factors_daily`);
    const adoption = await byDay(`select day::text as day, users, users_with_factor, users_with_totp, users_with_webauthn from analytics.mfa_adoption_daily`);
    return days.map((day) => {
      const method = (m: string) => num(logins(day).find((r) => r.method === m)?.logins);
      const outcome = (o: string) => num(outcomes(day).find((r) => r.outcome === o)?.count);
      const sec: Record<string, unknown> = security(day)[0] ?? {};
      const factor = (f: string, c: 'enrolled' | 'removed') => num(factors(day).find((r) => r.factor === f)?.[c]);
      const a = adoption(day)[0]!;
      const e = enrolment(day)[0]!;
      return {
        logins_password: method('password'), logins_password_totp: method('password+totp'), logins_password_recovery_code: method('password+recovery_code'),
        logins_password_webauthn: method('password+webauthn'), logins_passkey: method('passkey'), logins_trusted_device: method('trusted_device'), logins_email_code: method('email_code'),
        outcome_completed: outcome('completed'), outcome_password_rejected: outcome('password_rejected'), outcome_mfa_failed: outcome('mfa_failed'),
        outcome_expired: outcome('expired'), outcome_abandoned: outcome('abandoned'),
        failures: num(sec.failures), backoffs: num(sec.backoffs), lockouts: num(sec.lockouts), recovery_codes_used: num(sec.recovery_codes_used),
        new_device_logins: num(sec.new_device_logins), detections: num(sec.detections),
        active_sessions: num(active(day)[0]?.sessions), active_users: num(active(day)[0]?.users),
        signups: num(e.signups), first_factors: num(e.first_factors), average_seconds_to_enrol: e.average_seconds_to_enrol === null ? -1 : Number(e.average_seconds_to_enrol),
        totp_enrolled: factor('totp', 'enrolled'), webauthn_enrolled: factor('webauthn', 'enrolled'), totp_removed: factor('totp', 'removed'), webauthn_removed: factor('webauthn', 'removed'),
        users: num(a.users), users_with_factor: num(a.users_with_factor), users_with_totp: num(a.users_with_totp), users_with_webauthn: num(a.users_with_webauthn),
      };
    });
  }

  async function csvRows(): Promise<Array<Record<string, number>>> {
    const env = { ...process.env, NODE_ENV: 'test', DATA_DIR: '.data/test', DATABASE_URL: server.database.url!, LOG_LEVEL: 'silent' };
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'analytics', 'export', '--from', at(0, 0), '--to', at(10, 0), '--format', 'csv'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (c) => resolve({ code: c, stdout: out }));
    });
    expect(code).toBe(0);
    const [header, ...lines] = stdout.trimEnd().split('\r\n');
    const names = header!.split(',');
    expect(names).toEqual(['bucket_start', ...columns]);
    return lines.map((line, d) => {
      const cells = line.split(',');
      expect(cells[0]).toBe(at(d, 0));
      return Object.fromEntries(columns.map((c, i) => [c, cells[i + 1] === '' ? -1 : Number(cells[i + 1])]));
    });
  }

  it('applies the history asynchronously: the lag shows it until the projector catches up', async () => {
    const before = await analyticsLag(server.app.db);
    expect(before.events).toBeGreaterThan(500);
    // Caught up with the horizon; a transaction running elsewhere in the cluster can hold the horizon back a moment.
    await expect.poll(async () => {
      await catchUpAnalytics(server.app);
      return (await analyticsLag(server.app.db)).events;
    }, { timeout: 20_000 }).toBe(0);
  });

  it('GraphQL series (DAY, UTC), the SQL views and the CSV export each equal the table', async () => {
    expect(await graphqlRows()).toEqual(expectedRows);
    expect(await viewRows()).toEqual(expectedRows);
    expect(await csvRows()).toEqual(expectedRows);
  });

  it('weeks start on Monday: 2–8 March and 9–15 March', async () => {
    const res = await analyst.gql(seriesQuery, { from: at(0, 0), to: at(10, 0), bucket: 'WEEK', timeZone: 'UTC' });
    const series = res.data.sessionAnalytics.series as Point[];
    expect(series.map((p) => [p.start, p.logins, p.activeSessions, p.activeUsers, p.signups, p.users])).toEqual([
      [at(0, 0), 36, 71, 35, 35, 35],
      [at(7, 0), 15, 35, 20, 15, 49],
    ]);
  });

  it('a time zone moves the day boundaries: Tokyo days (UTC+9) split each UTC day at 15:00', async () => {
    const res = await analyst.gql(seriesQuery, { from: '2026-03-02T00:00:00+09:00', to: '2026-03-13T00:00:00+09:00', bucket: 'DAY', timeZone: 'Asia/Tokyo' });
    const series = res.data.sessionAnalytics.series as Point[];
    expect(series.map((p) => p.start)).toEqual(Array.from({ length: 11 }, (_, d) => new Date(day0 - 9 * 3600_000 + d * 86400_000).toISOString()));
    // 12:00–14:00 UTC logins fall on the same Tokyo day, 15:00–17:00 UTC ones on the next.
    expect(series.map((p) => p.logins)).toEqual([4, 4, 6, 4, 6, 4, 7, 4, 6, 4, 2]);
    // Hourly buckets in UTC: day 3's ten wrong passwords all fall in 18:00.
    const hourly = await analyst.gql(seriesQuery, { from: at(3, 17), to: at(3, 20), bucket: 'HOUR', timeZone: 'UTC' });
    expect((hourly.data.sessionAnalytics.series as Point[]).map((p) => [p.failures, p.backoffs, p.lockouts])).toEqual([[0, 0, 0], [10, 6, 1], [0, 0, 0]]);
  });

  it('after a rebuild: the tables equal a replay, the views are back with their grant, and all three still equal the table', async () => {
    expect(await compareAnalyticsWithReplay(server.app)).toEqual([]);
    const { grants } = await rebuildAnalytics(server.app);
    expect(grants).toContain(role);
    expect(await compareAnalyticsWithReplay(server.app)).toEqual([]);
    expect(await graphqlRows()).toEqual(expectedRows);
    expect(await viewRows()).toEqual(expectedRows);
    expect(await csvRows()).toEqual(expectedRows);
  });

  it('the granted role reads the views and nothing else; the views hold no email, address or user agent', async () => {
    await expect(viewer.unsafe(`select count(*) from events`)).rejects.toThrow(/permission denied/);
    await expect(viewer.unsafe(`select count(*) from analytics_data.attempts`)).rejects.toThrow(/permission denied/);
    await expect(viewer.unsafe(`select count(*) from proj.users`)).rejects.toThrow(/permission denied/);
    const columnsOfViews = await viewer.unsafe(`select table_name, column_name from information_schema.columns where table_schema = 'analytics'`);
    expect(columnsOfViews.length).toBeGreaterThan(20);
    for (const c of columnsOfViews) expect(c.column_name, `${c.table_name}.${c.column_name}`).not.toMatch(/email|^ip|_ip$|^address(es)?$|agent|user_id|subject|network/);
    // And no value anywhere in them looks like one: every row of every view, as text.
    for (const { table_name: view } of await viewer.unsafe(`select distinct table_name from information_schema.columns where table_schema = 'analytics'`)) {
      const rows = await viewer.unsafe(`select t::text as row from analytics.${view} t`);
      for (const { row } of rows) expect(row, view).not.toMatch(/@|198\.51\.100\.7|scenario|Firefox|Chrome/);
    }
    // The analysis tables themselves hold no address in clear either.
    const [tables] = await server.app.db.query<{ dump: string }>(`select string_agg(t::text, ' ') as dump from analytics_data.attempts t`);
    expect(tables!.dump).not.toContain('198.51.100.7');
  });
});
