// MFA policy by role (MFA_REQUIRED_ROLES) and by user (requireMfa / liftMfaRequirement): the same grace period and
// enrol-only session that admins had, now for every required role and for one user an administrator names.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runUserCommand } from '../../../src/cli/users.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { fastArgon, PASSWORD } from '../totp/helpers.js';
import { adminAtAal2, AUTH_STATE, DAY, eventsOf, loginFlows, notificationKinds, userIdByEmail } from './support.js';

const REQUIRE = `mutation($input: RequireMfaInput!) { requireMfa(input: $input) { __typename ... on RequireMfaPayload { userId deadline } ... on Error { code } } }`;
const LIFT = `mutation($input: LiftMfaRequirementInput!) { liftMfaRequirement(input: $input) { __typename ... on LiftMfaRequirementPayload { lifted } ... on Error { code } } }`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: fastArgon });
  vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterAll(async () => { vi.restoreAllMocks(); await server?.close(); });

describe('MFA_REQUIRED_ROLES', () => {
  it('an auditor without a factor gets a full session in the grace period and an enrol-only one after it', async () => {
    await signedUpUser(server, 'auditor@example.com');
    await runUserCommand(server.app, 'grant-role', { email: 'auditor@example.com', role: 'auditor' });
    server.clock.advance(6 * DAY);
    const during = server.appClient();
    expect((await loginFlows(during, 'auditor@example.com')).flows).not.toContain('MFA_ENROLL_REQUIRED');
    expect((await during.gql(AUTH_STATE)).data.authState).toMatchObject({ isAuthenticated: true, session: { aal: 1 } });
    server.clock.advance(1 * DAY + 1000);
    const after = server.appClient();
    expect((await loginFlows(after, 'auditor@example.com')).flows).toEqual(['MFA_ENROLL_REQUIRED']);
    expect((await after.gql(AUTH_STATE)).data.authState.isAuthenticated).toBe(false);
    // The session opened during the grace period is limited too, from the deadline on.
    expect((await during.gql(AUTH_STATE)).data.authState.isAuthenticated).toBe(false);
  });

  it('a role left out of MFA_REQUIRED_ROLES requires nothing', async () => {
    const other = await startTestServer({ env: { ...fastArgon, MFA_REQUIRED_ROLES: 'admin' } });
    try {
      await signedUpUser(other, 'analyst@example.com');
      await runUserCommand(other.app, 'grant-role', { email: 'analyst@example.com', role: 'analyst' });
      other.clock.advance(30 * DAY);
      const client = other.appClient();
      expect((await loginFlows(client, 'analyst@example.com')).flows).not.toContain('MFA_ENROLL_REQUIRED');
      expect((await client.gql(AUTH_STATE)).data.authState).toMatchObject({ isAuthenticated: true, mfaEnrollmentDeadline: null });
    } finally {
      await other.close();
    }
  });
});

describe('requireMfa and liftMfaRequirement', () => {
  it('a per-user requirement gives a deadline, then an enrol-only session; lifting it restores normal sessions', async () => {
    const admin = await adminAtAal2(server, 'boss@example.com');
    await signedUpUser(server, 'member@example.com');
    const userId = await userIdByEmail(server, 'member@example.com');
    const deadline = new Date(server.clock.now().getTime() + 2 * DAY).toISOString();
    const required = (await admin.client.gql(REQUIRE, { input: { userId, deadline, reason: 'handles payroll' } })).data.requireMfa;
    expect(required).toEqual({ __typename: 'RequireMfaPayload', userId, deadline });
    const [applied] = await eventsOf(server, 'MfaPolicyApplied', userId);
    expect(applied!.data).toMatchObject({ userId, deadline, by: admin.userId, reason: 'handles payroll' });
    expect(await notificationKinds(server, userId)).toContain('mfa_required');

    const before = server.appClient();
    expect((await loginFlows(before, 'member@example.com')).flows).not.toContain('MFA_ENROLL_REQUIRED');
    expect((await before.gql(AUTH_STATE)).data.authState.mfaEnrollmentDeadline).toBe(deadline);

    server.clock.advance(2 * DAY + 1000);
    const after = server.appClient();
    expect((await loginFlows(after, 'member@example.com')).flows).toEqual(['MFA_ENROLL_REQUIRED']);
    expect((await before.gql(AUTH_STATE)).data.authState.isAuthenticated).toBe(false);

    // The first admin's session has gone idle meanwhile: another one lifts it.
    const second = await adminAtAal2(server, 'boss-later@example.com');
    const lifted = (await second.client.gql(LIFT, { input: { userId } })).data.liftMfaRequirement;
    expect(lifted).toEqual({ __typename: 'LiftMfaRequirementPayload', lifted: true });
    expect((await eventsOf(server, 'MfaPolicyLifted', userId))[0]!.data).toMatchObject({ by: second.userId });
    const restored = server.appClient();
    expect((await loginFlows(restored, 'member@example.com')).flows).not.toContain('MFA_ENROLL_REQUIRED');
    expect((await restored.gql(AUTH_STATE)).data.authState).toMatchObject({ isAuthenticated: true, mfaEnrollmentDeadline: null });
  });

  it('the CLI requires MFA too (require-mfa), with the operator as the actor', async () => {
    await signedUpUser(server, 'cli-member@example.com');
    const deadline = new Date(server.clock.now().getTime() - 1000).toISOString();
    await runUserCommand(server.app, 'require-mfa', { email: 'cli-member@example.com', deadline });
    const userId = await userIdByEmail(server, 'cli-member@example.com');
    expect((await eventsOf(server, 'MfaPolicyApplied', userId))[0]!.data).toMatchObject({ by: 'operator', deadline });
    expect((await loginFlows(server.appClient(), 'cli-member@example.com')).flows).toEqual(['MFA_ENROLL_REQUIRED']);
  });

  it('refuses a bad deadline and an unknown user, writing nothing', async () => {
    const admin = await adminAtAal2(server, 'boss2@example.com');
    const bad = (await admin.client.gql(REQUIRE, { input: { userId: 'nobody', deadline: new Date().toISOString() } })).data.requireMfa;
    expect(bad.code).toBe('NOT_FOUND');
    const res = await admin.client.gql(REQUIRE, { input: { userId: admin.userId, deadline: 'not a date' } });
    expect(res.errors?.length ?? 0).toBeGreaterThan(0);
    expect(await eventsOf(server, 'MfaPolicyApplied', admin.userId)).toEqual([]);
  });

  it('a user under a requirement cannot remove their last strong factor', async () => {
    const admin = await adminAtAal2(server, 'boss3@example.com');
    const target = await adminAtAal2(server, 'keeps-factor@example.com');
    await runUserCommand(server.app, 'revoke-role', { email: 'keeps-factor@example.com', role: 'admin' });
    await admin.client.gql(REQUIRE, { input: { userId: target.userId, deadline: new Date(server.clock.now().getTime() + DAY).toISOString() } });
    const res = await target.client.gql(`mutation { deactivateTotp { __typename ... on Error { code } } }`);
    expect(res.data.deactivateTotp.code).toBe('LAST_FACTOR_REQUIRED');
    void PASSWORD;
  });
});
