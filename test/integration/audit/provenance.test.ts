// Issue 14 item 6: a session's provenance, from the login attempt through every factor attempt to its end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole } from '../../../src/application/roles.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, codeAt, pendingLogin, userWithTotp } from '../totp/helpers.js';

const system = { clientAddress: 'test', userAgent: 'test', requestId: 'test', actor: 'system' };
const provenanceQuery = `query($id: String!) { sessionProvenance(sessionId: $id) {
  __typename ... on QuerySessionProvenanceSuccess { data { position type streamId correlationId } } ... on Error { code } } }`;

describe('session provenance', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('password, a failed TOTP code and a recovery code: exactly those events, in order, then the logout', async () => {
    const auditorUser = await userWithTotp(server, 'prov-auditor@example.com');
    await grantRole(server.app, auditorUser.userId, 'auditor', system);
    const user = await userWithTotp(server, 'prov-user@example.com');
    const pending = await pendingLogin(server, user.email);
    const wrong = String((Number(await codeAt(user.secret, server.clock.now().getTime())) + 1) % 1_000_000).padStart(6, '0');
    expect((await pending.gql(authenticateMfaMutation, { code: wrong })).data.authenticateMfa.code).toBe('INVALID_CODE');
    expect((await pending.gql(authenticateMfaMutation, { code: user.recoveryCodes[0] })).data.authenticateMfa.__typename).toBe('AuthPayload');
    const [session] = await server.app.db.query<{ stream_id: string }>(
      `select stream_id from proj.audit_events where user_id = $1 and type = 'SessionStarted' order by position desc limit 1`, [user.userId]);
    const sessionId = session!.stream_id.replace(/^session-/, '');
    await pending.gql(`mutation { logout { __typename } }`);

    const result = (await auditorUser.client.gql(provenanceQuery, { id: sessionId })).data.sessionProvenance;
    expect(result.__typename).toBe('QuerySessionProvenanceSuccess');
    const types = result.data.map((e: { type: string }) => e.type);
    expect(types).toEqual(PROVENANCE);
    const positions = result.data.map((e: { position: string }) => Number(e.position));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));

    // One login, one story: every event from the password to the session, across the three requests (login, wrong
    // code, recovery code), is filed under the flow's id; the session names that flow; every event names its cause.
    const flowEvents = await server.app.db.query<{ type: string; stream_id: string; data: { flowId?: string }; metadata: { correlationId?: string; requestId?: string; causationId?: string } }>(
      `select type, stream_id, data, metadata from events where position = any($1::bigint[]) order by position`, [positions]);
    const flowId = flowEvents.find((e) => e.type === 'LoginStarted')!.stream_id.replace(/^login-/, '');
    const beforeLogout = flowEvents.filter((e) => e.type !== 'SessionRevoked');
    expect(beforeLogout.map((e) => e.metadata.correlationId)).toEqual(beforeLogout.map(() => flowId));
    expect(new Set(beforeLogout.map((e) => e.metadata.requestId).filter(Boolean)).size).toBe(3);
    expect(flowEvents.find((e) => e.type === 'SessionStarted')!.data.flowId).toBe(flowId);
    for (const e of flowEvents) expect(e.metadata.causationId).toBeTruthy();

    expect((await user.client.gql(provenanceQuery, { id: sessionId })).data.sessionProvenance.code).toBe('FORBIDDEN');
    expect((await auditorUser.client.gql(provenanceQuery, { id: 'no-such-session' })).data.sessionProvenance.code).toBe('NOT_FOUND');
  });
});

/** The login attempt, each factor attempt (the failed TOTP code too), the session, its end. */
const PROVENANCE = [
  'LoginStarted', 'PasswordVerified', 'MfaRequired',
  'TotpCodeRejected', 'MfaFailed',
  'RecoveryCodeUsed', 'MfaSucceeded',
  'LoginCompleted',
  // The login completed on a device this account had not used: it becomes known, and the owner is told (the
  // notification reactor runs once the step's one multi-stream append is in, so its request follows the session).
  'DeviceSeen', 'SessionStarted', 'SecurityNotificationRequested', 'SessionRevoked',
];
