// A login and session history, then a rebuild: the users, login_flows and sessions tables rebuilt from the log equal
// the live ones, whatever the batch boundaries (the set-based projectBatch folds a batch per row), and equal what the
// per-event statements alone produce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../src/crypto/tokens.js';
import { analyticsLag, catchUpAnalytics, compareAnalyticsWithReplay, rebuildAnalytics } from '../../../src/application/analytics.js';
import { Projections } from '../../../src/projections/runner.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import {
  AUTH_STATE, CHANGE_EMAIL, CHANGE_PASSWORD, eventsOfType, giveTotpFactor, HOUR, login, LOGOUT, ME, MINUTE, PASSWORD, REAUTHENTICATE,
  REVOKE_SESSIONS, userIdOf,
} from './support.js';

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server?.close(); });

const tables = { users: 'user_id', login_flows: 'flow_id', sessions: 'session_id' } as const;

async function snapshot(schema = 'proj'): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(tables)) out[table] = await server.app.db.query(`select * from ${schema}.${table} order by ${key}`);
  return out;
}

async function append(streamId: string, type: string, data: Record<string, unknown>): Promise<void> {
  await server.app.store.append(streamId, [{ type, data }], { expectedVersion: 'any', metadata: { actor: 'test', correlationId: newId() }, now: server.clock.now() });
}

async function history(): Promise<void> {
  const alice = await signedUpUser(server, 'alice@example.com');
  const aliceId = await userIdOf(server, 'alice@example.com');
  const second = server.appClient((await login(server.appClient(), 'alice@example.com')).sessionToken);
  await login(server.appClient(), 'alice@example.com', 'wrong password guess');
  await login(server.appClient(), 'ghost@example.com', 'wrong password guess');
  for (let i = 0; i < 3; i++) { server.clock.advance(6 * MINUTE); await alice.gql(ME); await second.gql(ME); }
  await alice.gql(REAUTHENTICATE, { password: PASSWORD });
  await alice.gql(REAUTHENTICATE, { password: PASSWORD });
  await alice.gql(CHANGE_EMAIL, { email: 'alice2@example.com' });
  await alice.gql(REAUTHENTICATE, { password: PASSWORD });
  await alice.gql(CHANGE_PASSWORD, { current: PASSWORD, next: 'alice new passphrase' });
  await append(`user-${aliceId}`, 'RoleGranted', { userId: aliceId, role: 'auditor', at: server.clock.now().toISOString() });
  await append(`user-${aliceId}`, 'RoleGranted', { userId: aliceId, role: 'admin', at: server.clock.now().toISOString() });
  await append(`user-${aliceId}`, 'RoleRevoked', { userId: aliceId, role: 'auditor', at: server.clock.now().toISOString() });
  await append(`user-${aliceId}`, 'RoleGranted', { userId: aliceId, role: 'analyst', at: server.clock.now().toISOString() });
  await append(`user-${aliceId}`, 'RoleGranted', { userId: aliceId, role: 'auditor', at: server.clock.now().toISOString() });
  await append(`user-${aliceId}`, 'UserLocked', { userId: aliceId, until: new Date(server.clock.now().getTime() + HOUR).toISOString(), failures: 5, at: server.clock.now().toISOString() });
  await append(`user-${aliceId}`, 'UserUnlocked', { userId: aliceId, by: 'admin', at: server.clock.now().toISOString() });

  const bob = await signedUpUser(server, 'bob@example.com');
  const bobId = await userIdOf(server, 'bob@example.com');
  await append(`user-${bobId}`, 'UserLocked', { userId: bobId, until: new Date(server.clock.now().getTime() + HOUR).toISOString(), failures: 5, at: server.clock.now().toISOString() });
  // A locked account is refused on every path (the lockout issue), so Bob is unlocked before he logs in.
  await append(`user-${bobId}`, 'UserUnlocked', { userId: bobId, by: 'admin', at: server.clock.now().toISOString() });
  await giveTotpFactor(server, bobId);
  const pendingBob = server.appClient();
  await login(pendingBob, 'bob@example.com');
  const [required] = (await eventsOfType(server, 'MfaRequired')).slice(-1);
  const flowId = required!.data.flowId;
  await append(`login-${flowId}`, 'MfaFailed', { flowId, userId: bobId, method: 'totp', reason: 'INVALID_CODE', at: server.clock.now().toISOString() });
  await append(`login-${flowId}`, 'MfaFailed', { flowId, userId: bobId, method: 'totp', reason: 'INVALID_CODE', at: server.clock.now().toISOString() });
  const abandoned = server.browser();
  await login(abandoned, 'bob@example.com');
  await abandoned.gql(LOGOUT);
  await login(server.appClient(), 'bob@example.com'); // left pending
  const bobSession = (await bob.gql(AUTH_STATE)).data.authState.session.id;
  await alice.gql(REVOKE_SESSIONS, { ids: [bobSession] }); // not hers: nothing
  await bob.gql(REVOKE_SESSIONS, { ids: [bobSession] });

  const carol = await signedUpUser(server, 'carol@example.com');
  server.clock.advance(2 * HOUR);
  await carol.gql(ME); // idle expiry
  const dave = await signedUpUser(server, 'dave@example.com');
  await dave.gql(LOGOUT);
}

describe('projections rebuilt from the log', () => {
  it('equal the live tables, for every batch size, and equal the per-event statements', async () => {
    await history();
    const live = await snapshot();
    expect(live.users!.length).toBeGreaterThanOrEqual(4);
    expect((live.users as any[]).find((u) => u.email === 'alice2@example.com').roles).toEqual(['admin', 'analyst', 'auditor']);
    expect((live.login_flows as any[]).some((f) => f.failures === 2)).toBe(true);
    expect((live.sessions as any[]).some((s) => s.methods.length === 4)).toBe(true);

    // Per-event statements only: the reference the batched path must match.
    const perEvent = new Projections(server.app.db, server.app.projections.projectors.map((p) => ({ ...p, projectBatch: undefined })));
    await perEvent.buildCopy('proj_per_event');
    expect(await snapshot('proj_per_event')).toEqual(live);
    await server.app.db.query('drop schema proj_per_event cascade');

    for (const batchSize of [2000, 1, 2, 3, 5, 7, 13]) {
      await server.app.projections.rebuild({ batchSize });
      expect(await snapshot(), `batch size ${batchSize}`).toEqual(live);
    }
    // The service keeps working on the rebuilt tables.
    expect((await login(server.appClient(), 'alice2@example.com', 'alice new passphrase')).__typename).toBe('AuthPayload');
  });

  it('the asynchronous analysis tables, built live three events a batch, equal a replay of the log, and a rebuild', async () => {
    const live = { ...server.app, config: { ...server.app.config, analytics: { ...server.app.config.analytics, batchSize: 3 } } };
    for (const deadline = Date.now() + 30_000; ;) {
      await catchUpAnalytics(live);
      if ((await analyticsLag(server.app.db)).events === 0) break;
      if (Date.now() > deadline) throw new Error('the analytics projector did not catch up');
    }
    const [counted] = await server.app.db.query<{ n: number }>(`select count(*)::int as n from analytics_data.hourly`);
    expect(counted!.n).toBeGreaterThan(5);
    expect(await compareAnalyticsWithReplay(server.app)).toEqual([]);
    await rebuildAnalytics(server.app);
    expect(await compareAnalyticsWithReplay(server.app)).toEqual([]);
  });
});
