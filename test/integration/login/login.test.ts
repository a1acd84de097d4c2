// Password login and the pending (pre-MFA) login: what a user and an attacker see, and what the log records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordHashMetrics } from '../../../src/crypto/password.js';
import { liveSchema } from '../../../src/projections/projector.js';
import { signedUpUser, startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import {
  AUTH_STATE, CHANGE_EMAIL, CHANGE_PASSWORD, DELETE_ACCOUNT, eventsOfType, giveTotpFactor, login, LOGOUT, ME, MINUTE, PASSWORD,
  REAUTHENTICATE, REVOKE_SESSIONS, userIdOf,
} from './support.js';

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server?.close(); });

describe('password login', () => {
  it('without a factor: an AAL1 session with methods [password]', async () => {
    await signedUpUser(server, 'plain@example.com');
    const client = server.appClient();
    const result = await login(client, 'plain@example.com');
    expect(result.__typename).toBe('AuthPayload');
    expect(result.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.authState).toMatchObject({ isAuthenticated: true, session: { aal: 1, methods: [{ method: 'password' }] } });
    const me = await client.gql(ME);
    expect(me.data.me.email).toBe('plain@example.com');
    const userId = await userIdOf(server, 'plain@example.com');
    const completed = (await eventsOfType(server, 'LoginCompleted')).filter((e) => e.data.userId === userId);
    expect(completed.at(-1)!.data).toMatchObject({ aal: 1, sessionId: result.authState.session.id });
  });

  it('unknown email and wrong password: the same INVALID_CREDENTIALS, both recorded, both verify a hash', async () => {
    await signedUpUser(server, 'victim@example.com');
    const userId = await userIdOf(server, 'victim@example.com');
    const rejectedBefore = (await eventsOfType(server, 'PasswordRejected')).length;

    const dummyBefore = passwordHashMetrics.dummyVerifications;
    const verifiedBefore = passwordHashMetrics.verifications;
    const unknown = await login(server.appClient(), 'nobody@example.com', 'some guess of a password');
    expect(passwordHashMetrics.dummyVerifications).toBe(dummyBefore + 1);
    expect(passwordHashMetrics.verifications).toBe(verifiedBefore);

    const wrong = await login(server.appClient(), 'victim@example.com', 'some guess of a password');
    expect(passwordHashMetrics.verifications).toBe(verifiedBefore + 1);
    expect(passwordHashMetrics.dummyVerifications).toBe(dummyBefore + 1);

    expect(unknown).toEqual(wrong);
    expect(unknown).toMatchObject({ __typename: 'AuthError', code: 'INVALID_CREDENTIALS' });
    const rejected = (await eventsOfType(server, 'PasswordRejected')).slice(rejectedBefore);
    expect(rejected.map((e) => e.data.userId)).toEqual([null, userId]);
    expect(JSON.stringify(rejected)).not.toContain('some guess');
    // No session and no pending flow came of either.
    const [flows] = await server.app.db.query<{ n: number }>(`select count(*)::int as n from ${liveSchema}.login_flows where status = 'rejected' and token_hash is null`);
    expect(flows!.n).toBeGreaterThanOrEqual(2);
  });
});

describe('a pending login (the user has a factor)', () => {
  let userId: string;
  const email = 'mfa@example.com';
  beforeAll(async () => {
    await signedUpUser(server, email);
    userId = await userIdOf(server, email);
    await giveTotpFactor(server, userId);
  });

  async function pending(kind: 'bearer' | 'cookie'): Promise<{ client: GraphQLClient; result: any }> {
    const client = kind === 'bearer' ? server.appClient() : server.browser();
    const result = await login(client, email);
    return { client, result };
  }

  it('login answers the MFA_AUTHENTICATE flow with the factor types, and no session', async () => {
    const sessionsBefore = (await eventsOfType(server, 'SessionStarted')).length;
    const { result } = await pending('bearer');
    expect(result.__typename).toBe('AuthPayload');
    expect(result.authState.isAuthenticated).toBe(false);
    expect(result.authState.session).toBeNull();
    expect(result.authState.flows).toEqual([expect.objectContaining({ id: 'MFA_AUTHENTICATE', isPending: true, types: ['TOTP'] })]);
    expect((await eventsOfType(server, 'SessionStarted')).length).toBe(sessionsBefore);
    const [required] = (await eventsOfType(server, 'MfaRequired')).filter((e) => e.data.userId === userId).slice(-1);
    expect(required!.data.types).toEqual(['TOTP']);
    // Bound to its user: the flow row and every event of the flow name that user, and only its token hash is kept.
    const [row] = await server.app.db.query(`select * from ${liveSchema}.login_flows where flow_id = $1`, [required!.data.flowId]);
    expect(row).toMatchObject({ user_id: userId, status: 'mfa_pending' });
    expect(row!.token_hash).not.toBe(result.sessionToken);
    expect(JSON.stringify(await server.app.store.readStream(`login-${required!.data.flowId}`))).not.toContain(result.sessionToken);
  });

  for (const kind of ['bearer', 'cookie'] as const) {
    it(`(${kind}) grants nothing: me is null, every other mutation answers NOT_AUTHENTICATED`, async () => {
      const { client } = await pending(kind);
      if (kind === 'cookie') expect(client.cookie).toBeTruthy();
      expect((await client.gql(ME)).data.me).toBeNull();
      const before = (await server.app.db.query<{ n: number }>(`select count(*)::int as n from events`))[0]!.n;
      const attempts = {
        changePassword: await client.gql(CHANGE_PASSWORD, { current: PASSWORD, next: 'a brand new passphrase' }),
        changeEmail: await client.gql(CHANGE_EMAIL, { email: 'stolen@example.com' }),
        deleteAccount: await client.gql(DELETE_ACCOUNT),
        revokeSessions: await client.gql(REVOKE_SESSIONS, { ids: ['anything'] }),
        reauthenticate: await client.gql(REAUTHENTICATE, { password: PASSWORD }),
      };
      for (const [name, res] of Object.entries(attempts)) {
        expect(res.data[name], name).toMatchObject({ __typename: 'AuthError', code: 'NOT_AUTHENTICATED' });
      }
      expect((await server.app.db.query<{ n: number }>(`select count(*)::int as n from events`))[0]!.n).toBe(before);
      const state = (await client.gql(AUTH_STATE)).data.authState;
      expect(state).toMatchObject({ isAuthenticated: false, user: null, session: null });
      expect(state.flows).toEqual([{ id: 'MFA_AUTHENTICATE', isPending: true, types: ['TOTP'] }]);
    });
  }

  it('expires after 10 minutes: authState shows no pending flow', async () => {
    const { client } = await pending('bearer');
    server.clock.advance(9 * MINUTE);
    expect((await client.gql(AUTH_STATE)).data.authState.flows.map((f: any) => f.id)).toContain('MFA_AUTHENTICATE');
    server.clock.advance(1 * MINUTE);
    const state = (await client.gql(AUTH_STATE)).data.authState;
    expect(state.isAuthenticated).toBe(false);
    expect(state.flows.filter((f: any) => f.isPending)).toEqual([]);
    expect((await client.gql(ME)).data.me).toBeNull();
  });

  it('logout while pending writes LoginAbandoned and the token is dead', async () => {
    const { client, result } = await pending('cookie');
    const [required] = (await eventsOfType(server, 'MfaRequired')).slice(-1);
    const out = await client.gql(LOGOUT);
    expect(out.data.logout).toEqual({ __typename: 'LogoutPayload', ok: true });
    expect(client.cookie).toBeUndefined();
    const abandoned = (await eventsOfType(server, 'LoginAbandoned')).filter((e) => e.data.flowId === required!.data.flowId);
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]!.data.userId).toBe(userId);
    const reused = server.appClient(result.sessionToken);
    const state = (await reused.gql(AUTH_STATE)).data.authState;
    expect(state.flows.filter((f: any) => f.isPending)).toEqual([]);
    // Logging out again is harmless and writes nothing more.
    await reused.gql(LOGOUT);
    expect((await eventsOfType(server, 'LoginAbandoned')).filter((e) => e.data.flowId === required!.data.flowId)).toHaveLength(1);
  });
});
