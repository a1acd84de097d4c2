// MFA for privileged users: an admin made with `tessera users create --admin` logs in at AAL1 within the grace period
// (authState shows the deadline) and, after it, only gets a session limited to setting up a factor.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runUserCommand } from '../../../src/cli/users.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { AUTH_STATE, CHANGE_PASSWORD, DAY, eventsOfType, login, ME, MINUTE, PASSWORD, userIdOf } from './support.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  vi.spyOn(console, 'log').mockImplementation(() => {});
  await runUserCommand(server.app, 'create', { email: 'Root@Example.com', password: PASSWORD, admin: true });
});
afterAll(async () => { vi.restoreAllMocks(); await server?.close(); });

describe('admin MFA policy', () => {
  it('the CLI writes the account and the role as events', async () => {
    const userId = await userIdOf(server, 'root@example.com');
    expect((await eventsOfType(server, 'RoleGranted')).filter((e) => e.data.userId === userId).map((e) => e.data.role)).toEqual(['admin']);
  });

  it('within the grace period: AAL1 login, and authState shows the deadline', async () => {
    server.clock.advance(6 * DAY);
    const client = server.appClient();
    const result = await login(client, 'root@example.com');
    expect(result.authState).toMatchObject({ isAuthenticated: true, session: { aal: 1 } });
    const state = (await client.gql(AUTH_STATE)).data.authState;
    const [registered] = (await eventsOfType(server, 'UserRegistered')).filter((e) => e.data.email === 'root@example.com');
    expect(new Date(state.mfaEnrollmentDeadline).getTime()).toBe(new Date(registered!.data.at).getTime() + 7 * DAY);
    expect((await client.gql(ME)).data.me.roles).toEqual(['admin']);
  });

  it('after it: an enrol-only session — MFA_ENROLL_REQUIRED pending, not authenticated, me null, MFA_REQUIRED', async () => {
    server.clock.advance(1 * DAY + 1000);
    const client = server.appClient();
    const result = await login(client, 'root@example.com');
    expect(result.__typename).toBe('AuthPayload');
    const state = (await client.gql(AUTH_STATE)).data.authState;
    expect(state.isAuthenticated).toBe(false);
    expect(state.flows).toEqual([expect.objectContaining({ id: 'MFA_ENROLL_REQUIRED', isPending: true })]);
    expect((await client.gql(ME)).data.me).toBeNull();
    const change = (await client.gql(CHANGE_PASSWORD, { current: PASSWORD, next: 'a brand new passphrase' })).data.changePassword;
    expect(change.code).toBe('MFA_REQUIRED');
    expect((await login(server.appClient(), 'root@example.com', 'a brand new passphrase')).code).toBe('INVALID_CREDENTIALS');
  });

  it('grant-role on an existing user starts a new grace period from the promotion', async () => {
    const member = server.appClient();
    await member.gql(`mutation { signup(input: { email: "member@example.com", password: "${PASSWORD}" }) { __typename } }`);
    server.clock.advance(30 * DAY);
    await runUserCommand(server.app, 'grant-role', { email: 'MEMBER@example.com', role: 'admin' });
    const client = server.appClient();
    await login(client, 'member@example.com');
    const state = (await client.gql(AUTH_STATE)).data.authState;
    expect(state.isAuthenticated).toBe(true);
    expect(new Date(state.mfaEnrollmentDeadline).getTime()).toBe(server.clock.now().getTime() + 7 * DAY);
  });

  it('a session opened during the grace period is limited to enrolling a factor from the deadline on, not when it ends', async () => {
    await runUserCommand(server.app, 'create', { email: 'grace@example.com', password: PASSWORD, admin: true });
    server.clock.advance(7 * DAY - 30 * MINUTE);
    const client = server.appClient();
    expect((await login(client, 'grace@example.com')).authState).toMatchObject({ isAuthenticated: true, session: { aal: 1 } });
    server.clock.advance(20 * MINUTE);
    expect((await client.gql(ME)).data.me).not.toBeNull();
    server.clock.advance(20 * MINUTE); // past the deadline, within the session's idle and absolute timeouts
    expect((await client.gql(ME)).data.me).toBeNull();
    const state = (await client.gql(AUTH_STATE)).data.authState;
    expect(state.flows).toEqual([expect.objectContaining({ id: 'MFA_ENROLL_REQUIRED', isPending: true })]);
    expect((await client.gql(CHANGE_PASSWORD, { current: PASSWORD, next: 'another brand new passphrase' })).data.changePassword.code).toBe('MFA_REQUIRED');
  });
});
