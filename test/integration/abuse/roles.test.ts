// Privileged operations need a privileged session: a stolen admin password alone (AAL1, or a session limited to
// enrolling a factor) unlocks nothing; a second factor does. And a garbled cookie is an anonymous caller, not a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUserCommand } from '../../../src/cli/users.js';
import { findUserByEmail } from '../../../src/projections/users.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { activateTotpMutation, codeAt, loginMutation, PASSWORD, setupTotpMutation } from '../totp/helpers.js';

const DAY = 86_400_000;
const unlock = `mutation($id: ID!) { unlockUser(userId: $id) { __typename ... on UnlockUserPayload { unlocked } ... on Error { code } } }`;

describe('admin operations', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await runUserCommand(server.app, 'create', { email: 'root@example.com', password: PASSWORD, admin: true });
  });
  afterAll(() => server.close());

  it('refuses an admin at AAL1 (within the grace period), then allows the same admin after setting up TOTP', async () => {
    const admin = server.appClient();
    await admin.gql(loginMutation, { email: 'root@example.com', password: PASSWORD });
    expect((await admin.gql(unlock, { id: 'someone' })).data.unlockUser).toEqual({ __typename: 'AuthError', code: 'MFA_REQUIRED' });
    const setup = await admin.gql(setupTotpMutation);
    const secret = setup.data.setupTotp.secret as string;
    const activated = await admin.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
    expect(activated.data.activateTotp.__typename).toBe('ActivateTotpPayload');
    // Activation proved the factor and rotated the session to AAL2.
    const target = await findUserByEmail(server.app.db, server.app.personalData.hashes.email('root@example.com'));
    const after = (await admin.gql(unlock, { id: target!.user_id })).data.unlockUser;
    expect(after, JSON.stringify(after)).toMatchObject({ __typename: "UnlockUserPayload" });
  });

  it('refuses a session limited to enrolling a factor (admin past the grace period)', async () => {
    await runUserCommand(server.app, 'create', { email: 'late@example.com', password: PASSWORD, admin: true });
    server.clock.advance(8 * DAY);
    const admin = server.appClient();
    const login = await admin.gql(loginMutation, { email: 'late@example.com', password: PASSWORD });
    expect(login.data.login.authState.flows.map((f: { id: string }) => f.id)).toContain('MFA_ENROLL_REQUIRED');
    expect((await admin.gql(unlock, { id: 'someone' })).data.unlockUser).toEqual({ __typename: 'AuthError', code: 'MFA_REQUIRED' });
  });

  it('treats a cookie that does not decode as no cookie', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'tessera_session=%E0%A4%A; tessera_webauthn=%', 'x-tessera-csrf': '1' },
      body: JSON.stringify({ query: '{ authState { isAuthenticated } }' }),
    });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body).toEqual({ data: { authState: { isAuthenticated: false } } });
  });
});
