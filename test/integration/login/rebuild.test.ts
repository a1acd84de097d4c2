// A login and session history, then a rebuild: the users, login_flows and sessions tables rebuilt from the log equal
// the live ones, whatever the batch boundaries (the set-based projectBatch folds a batch per row), and equal what the
// per-event statements alone produce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, requireMfa, resetUserMfa } from '../../../src/application/administration.js';
import { newId } from '../../../src/crypto/tokens.js';
import { analyticsLag, catchUpAnalytics, compareAnalyticsWithReplay, rebuildAnalytics } from '../../../src/application/analytics.js';
import { Projections } from '../../../src/projections/runner.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { deriveCode } from '../../../src/crypto/recoveryTokens.js';

const VERIFY_EMAIL = `mutation($code: String!) { verifyEmail(input: { code: $code }) { __typename ... on Error { code } } }`;
import {
  AUTH_STATE, CHANGE_EMAIL, CHANGE_PASSWORD, eventsOfType, giveTotpFactor, HOUR, login, LOGOUT, ME, MINUTE, PASSWORD, REAUTHENTICATE,
  REVOKE_SESSIONS, userIdOf,
} from './support.js';

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server?.close(); });

const tables = { users: 'user_id', login_flows: 'flow_id', sessions: 'session_id', user_mfa: 'user_id' } as const;

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
  // The change waits for the new address's code (ACCOUNT_EMAIL_VERIFICATION optional): a wrong code, then the right
  // one, derived here from the request's nonce as the mail worker derives it.
  await alice.gql(VERIFY_EMAIL, { code: 'WRONG234' });
  const [requested] = (await eventsOfType(server, 'EmailVerificationRequested')).filter((e: any) => e.data.newEmail === 'alice2@example.com');
  await alice.gql(VERIFY_EMAIL, { code: deriveCode(server.app.secrets.keys, 'email_verification', (requested as any).data.nonce, (requested as any).data.keyId) });
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

  // The MFA policy by user and an administrator's reset (user_mfa, users.mfa_required_by).
  const cli = { clientAddress: '', userAgent: 'test', requestId: newId(), actor: 'operator' };
  await requireMfa(server.app, operator, { userId: aliceId, deadline: new Date(server.clock.now().getTime() + HOUR).toISOString() }, cli);
  await append(`user-${aliceId}`, 'MfaPolicyLifted', { userId: aliceId, by: 'operator', reason: null, at: server.clock.now().toISOString() });
  await requireMfa(server.app, operator, { userId: bobId, deadline: new Date(server.clock.now().getTime() + 2 * HOUR).toISOString(), reason: 'payroll' }, cli);
  await append(`authenticators-${bobId}`, 'TotpCodeAccepted', { userId: bobId, step: 1, purpose: 'login', at: server.clock.now().toISOString() });
  await resetUserMfa(server.app, operator, { userId: bobId, reason: 'lost phone' }, cli);

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
    expect((live.users as any[]).find((u) => u.email_hash === server.app.personalData.hashes.email('alice2@example.com')).roles).toEqual(['admin', 'analyst', 'auditor']);
    expect((live.login_flows as any[]).some((f) => f.failures === 2)).toBe(true);
    expect((live.sessions as any[]).some((s) => s.methods.length === 4)).toBe(true);
    expect((live.user_mfa as any[]).some((u) => u.mfa_required_by !== null && u.last_mfa_at !== null && u.totp === false)).toBe(true);

    // Per-event statements only: the reference the batched path must match.
    const perEvent = new Projections(server.app.db, server.app.projections.projectors.map((p) => ({ ...p, projectBatch: undefined })), server.app.personalData);
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
