// The administrator's tools: reset a user's MFA, revoke a role, sign a user out everywhere, and list users with their
// MFA status; through GraphQL (an admin at AAL2 only) and the CLI. Each change is an event naming the administrator,
// and the user is told.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runUserCommand } from '../../../src/cli/users.js';
import { load } from '../../../src/application/commandHandler.js';
import { authenticatorsAggregate } from '../../../src/domain/authenticators/aggregate.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, codeAt, fastArgon, loginMutation, PASSWORD, pendingLogin, userWithTotp } from '../totp/helpers.js';
import { adminAtAal2, AUTH_STATE, DAY, eventsOf, notificationKinds, userIdByEmail } from './support.js';

const RESET = `mutation($input: ResetUserMfaInput!) { resetUserMfa(input: $input) { __typename
  ... on ResetUserMfaPayload { userId removedFactorCount keptPasskeyCount endedSessionCount } ... on Error { code } } }`;
const REVOKE_ROLE = `mutation($input: RevokeRoleInput!) { revokeRole(input: $input) { __typename ... on RevokeRolePayload { role revoked } ... on Error { code } } }`;
const SIGN_OUT = `mutation($input: SignOutUserInput!) { signOutUser(input: $input) { __typename ... on SignOutUserPayload { endedSessionCount } ... on Error { code } } }`;
const USERS = `query($first: Int, $after: String, $filter: UsersFilter) { users(first: $first, after: $after, filter: $filter) { __typename
  ... on UserConnection { nodes { id email roles mfa { factorTypes lastUsedAt requiredBy deadline } } pageInfo { endCursor hasNextPage } } ... on Error { code } } }`;
const TRUST = `mutation { trustDevice(input: { trust: true }) { __typename } }`;

let server: TestServer;
let admin: Awaited<ReturnType<typeof adminAtAal2>>;
let logged: string[] = [];
beforeAll(async () => {
  server = await startTestServer({ env: { ...fastArgon, MFA_TRUST_ENABLED: 'true' } });
  vi.spyOn(console, 'log').mockImplementation((line: string) => { logged.push(line); });
  admin = await adminAtAal2(server, 'admin@example.com');
});
afterAll(async () => { vi.restoreAllMocks(); await server?.close(); });

describe('resetUserMfa', () => {
  it('removes every factor and device trust, ends every session, names the admin and tells the user once', async () => {
    const target = await userWithTotp(server, 'reset-me@example.com');
    server.clock.advance(30_000);
    const second = await pendingLogin(server, target.email);
    const mfa = (await second.gql(authenticateMfaMutation, { code: await codeAt(target.secret, server.clock.now().getTime()) })).data.authenticateMfa;
    expect(mfa.__typename).toBe('AuthPayload');
    expect((await second.gql(TRUST)).data.trustDevice.__typename).toBe('TrustDevicePayload');
    const [trusted] = await server.app.db.query<{ n: number }>(`select count(*)::int as n from proj.devices where user_id = $1 and trusted_until is not null`, [target.userId]);
    expect(trusted!.n).toBe(1);

    const reset = (await admin.client.gql(RESET, { input: { userId: target.userId, reason: 'lost phone, ticket 4711' } })).data.resetUserMfa;
    expect(reset).toEqual({ __typename: 'ResetUserMfaPayload', userId: target.userId, removedFactorCount: 1, keptPasskeyCount: 0, endedSessionCount: 2 });

    const { state } = await load(server.app.store, authenticatorsAggregate, target.userId);
    expect({ totp: state.totp.status, keys: state.webauthn.length, codes: state.recoveryCodes }).toEqual({ totp: 'none', keys: 0, codes: null });
    const [after] = await server.app.db.query<{ n: number }>(`select count(*)::int as n from proj.devices where user_id = $1 and trusted_until is not null`, [target.userId]);
    expect(after!.n).toBe(0);
    expect((await target.client.gql(AUTH_STATE)).data.authState.isAuthenticated).toBe(false);
    expect((await second.gql(AUTH_STATE)).data.authState.isAuthenticated).toBe(false);
    const [event] = await eventsOf(server, 'MfaReset', target.userId);
    expect(event!.data).toMatchObject({ by: admin.userId, reason: 'lost phone, ticket 4711', keptAuthenticatorIds: [] });
    expect(event!.metadata.actor).toBe(admin.userId);
    const kinds = await notificationKinds(server, target.userId);
    expect(kinds.filter((k) => k === 'mfa_reset')).toHaveLength(1);
    expect(kinds).not.toContain('factor_removed');
    // The next password login has no MFA step: the user sets a factor up again.
    const again = await server.appClient().gql(loginMutation, { email: target.email, password: PASSWORD });
    expect(again.data.login.authState.flows.map((f: { id: string }) => f.id)).not.toContain('MFA_AUTHENTICATE');
  });

  it('refuses a non-admin (FORBIDDEN) and an admin at AAL1 (MFA_REQUIRED), writing nothing', async () => {
    const target = await userWithTotp(server, 'kept@example.com');
    const plain = await signedUpUser(server, 'plain@example.com');
    expect((await plain.gql(RESET, { input: { userId: target.userId, reason: 'x' } })).data.resetUserMfa.code).toBe('FORBIDDEN');
    await runUserCommand(server.app, 'create', { email: 'weak-admin@example.com', password: PASSWORD, admin: true });
    const weak = server.appClient();
    await weak.gql(loginMutation, { email: 'weak-admin@example.com', password: PASSWORD });
    expect((await weak.gql(AUTH_STATE)).data.authState).toMatchObject({ isAuthenticated: true, session: { aal: 1 } });
    expect((await weak.gql(RESET, { input: { userId: target.userId, reason: 'x' } })).data.resetUserMfa.code).toBe('MFA_REQUIRED');
    expect(await server.appClient().gql(RESET, { input: { userId: target.userId, reason: 'x' } }).then((r) => r.data.resetUserMfa.code)).toBe('NOT_AUTHENTICATED');
    expect(await eventsOf(server, 'MfaReset', target.userId)).toEqual([]);
    expect((await load(server.app.store, authenticatorsAggregate, target.userId)).state.totp.status).toBe('active');
  });

  it('needs a reason', async () => {
    const target = await userWithTotp(server, 'no-reason@example.com');
    const res = (await admin.client.gql(RESET, { input: { userId: target.userId, reason: '  ' } })).data.resetUserMfa;
    expect(res.code).toBe('VALIDATION_FAILED');
    expect(await eventsOf(server, 'MfaReset', target.userId)).toEqual([]);
  });
});

describe('revokeRole and signOutUser', () => {
  it('revokeRole writes RoleRevoked naming the admin and tells the user', async () => {
    await signedUpUser(server, 'ex-auditor@example.com');
    await runUserCommand(server.app, 'grant-role', { email: 'ex-auditor@example.com', role: 'auditor' });
    const userId = await userIdByEmail(server, 'ex-auditor@example.com');
    const res = (await admin.client.gql(REVOKE_ROLE, { input: { userId, role: 'auditor', reason: 'left the audit team' } })).data.revokeRole;
    expect(res).toEqual({ __typename: 'RevokeRolePayload', role: 'auditor', revoked: true });
    expect((await eventsOf(server, 'RoleRevoked', userId))[0]!.data).toMatchObject({ role: 'auditor', by: admin.userId, reason: 'left the audit team' });
    expect(await notificationKinds(server, userId)).toContain('role_revoked');
    const [row] = await server.app.db.query<{ roles: string[] }>(`select roles from proj.users where user_id = $1`, [userId]);
    expect(row!.roles).toEqual([]);
  });

  it('signOutUser ends every session of the user and names the admin', async () => {
    const user = await signedUpUser(server, 'signed-out@example.com');
    const other = server.appClient();
    await other.gql(loginMutation, { email: user.email, password: PASSWORD });
    const userId = await userIdByEmail(server, user.email);
    const res = (await admin.client.gql(SIGN_OUT, { input: { userId, reason: 'suspicious activity' } })).data.signOutUser;
    expect(res).toEqual({ __typename: 'SignOutUserPayload', endedSessionCount: 2 });
    expect((await user.gql(AUTH_STATE)).data.authState.isAuthenticated).toBe(false);
    expect((await other.gql(AUTH_STATE)).data.authState.isAuthenticated).toBe(false);
    expect((await eventsOf(server, 'UserSignedOut', userId))[0]!.data).toMatchObject({ by: admin.userId, sessionCount: 2 });
    const revoked = await eventsOf(server, 'SessionRevoked', userId);
    expect(revoked.map((e) => e.data.reason)).toEqual(['signed_out_by_admin', 'signed_out_by_admin']);
    expect(await notificationKinds(server, userId)).toContain('signed_out_by_admin');
  });
});

describe('users', () => {
  it('pages through users with their MFA status, from the projection', async () => {
    const withTotp = await userWithTotp(server, 'status-totp@example.com');
    server.clock.advance(30_000);
    const pending = await pendingLogin(server, withTotp.email);
    await pending.gql(authenticateMfaMutation, { code: await codeAt(withTotp.secret, server.clock.now().getTime()) });
    await signedUpUser(server, 'status-auditor@example.com');
    await runUserCommand(server.app, 'grant-role', { email: 'status-auditor@example.com', role: 'auditor' });
    const auditorId = await userIdByEmail(server, 'status-auditor@example.com');

    const seen: any[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res: any = (await admin.client.gql(USERS, { first: 2, after })).data.users;
      expect(res.__typename).toBe('UserConnection');
      expect(res.nodes.length).toBeLessThanOrEqual(2);
      seen.push(...res.nodes);
      if (!res.pageInfo.hasNextPage) break;
      after = res.pageInfo.endCursor;
    }
    const [{ n }] = await server.app.db.query<{ n: number }>(`select count(*)::int as n from proj.users where not deleted`) as [{ n: number }];
    expect(seen).toHaveLength(n);
    expect(new Set(seen.map((u) => u.id)).size).toBe(n);
    const totpUser = seen.find((u) => u.id === withTotp.userId);
    expect(totpUser.mfa).toMatchObject({ factorTypes: ['TOTP'], lastUsedAt: server.clock.now().toISOString(), deadline: null });
    const auditor = seen.find((u) => u.id === auditorId);
    expect(auditor.mfa.factorTypes).toEqual([]);
    expect(new Date(auditor.mfa.deadline).getTime()).toBe(server.clock.now().getTime() + 7 * DAY);

    const filtered = (await admin.client.gql(USERS, { filter: { role: 'auditor', withoutStrongFactor: true } })).data.users;
    expect(filtered.nodes.map((u: { id: string }) => u.id)).toEqual([auditorId]);
  });

  it('the CLI lists users, resets MFA and revokes a role, as the operator', async () => {
    const target = await userWithTotp(server, 'cli-target@example.com');
    await runUserCommand(server.app, 'grant-role', { email: target.email, role: 'analyst' });
    logged = [];
    await runUserCommand(server.app, 'list', { role: 'analyst' });
    const listed = logged.map((line) => JSON.parse(line));
    expect(listed.find((u) => u.id === target.userId)).toMatchObject({ factorTypes: ['TOTP'], roles: ['analyst'] });
    await runUserCommand(server.app, 'reset-mfa', { email: target.email, reason: 'support ticket 12' });
    expect((await eventsOf(server, 'MfaReset', target.userId))[0]!.data).toMatchObject({ by: 'operator', reason: 'support ticket 12' });
    await runUserCommand(server.app, 'revoke-role', { email: target.email, role: 'analyst' });
    expect((await eventsOf(server, 'RoleRevoked', target.userId))[0]!.data).toMatchObject({ by: 'operator' });
    await expect(runUserCommand(server.app, 'reset-mfa', { email: target.email })).rejects.toThrow(/--reason/);
  });
});
