// Adding a first factor needs a recent authentication: an old, stolen session cannot enrol the attacker's
// authenticator app (and so take the recovery codes and an AAL2 session).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { activateTotpMutation, codeAt, loginMutation, PASSWORD, setupTotpMutation } from './helpers.js';

describe('enrolling a first factor', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('is refused to a session authenticated more than 5 minutes ago, and allowed after reauthentication', async () => {
    const client = await signedUpUser(server, 'fresh@example.com', PASSWORD);
    server.clock.advance(6 * 60_000);
    expect((await client.gql(setupTotpMutation)).data.setupTotp).toEqual({ __typename: 'AuthError', code: 'REAUTHENTICATION_REQUIRED' });
    const begun = await client.gql(`mutation { beginWebAuthnRegistration(input: { passwordless: false }) { __typename ... on Error { code } } }`);
    expect(begun.data.beginWebAuthnRegistration).toEqual({ __typename: 'AuthError', code: 'REAUTHENTICATION_REQUIRED' });
    await client.gql(`mutation($p: String!) { reauthenticate(input: { password: $p }) { __typename ... on AuthPayload { sessionToken } } }`, { p: PASSWORD });
    expect((await client.gql(setupTotpMutation)).data.setupTotp.__typename).toBe('TotpSetup');
  });

  it('activation is bound to the session that began the setup: another session of the same user cannot finish it', async () => {
    const owner = await signedUpUser(server, 'bound@example.com', PASSWORD);
    const secret = (await owner.gql(setupTotpMutation)).data.setupTotp.secret as string;
    const other = server.appClient();
    await other.gql(loginMutation, { email: 'bound@example.com', password: PASSWORD });
    const stolen = await other.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
    expect(stolen.data.activateTotp).toEqual({ __typename: 'AuthError', code: 'TOTP_NOT_PENDING' });
    expect((await owner.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) })).data.activateTotp.__typename).toBe('ActivateTotpPayload');
  });

  it('activation needs the same recent authentication as the setup', async () => {
    const client = await signedUpUser(server, 'stale@example.com', PASSWORD);
    const secret = (await client.gql(setupTotpMutation)).data.setupTotp.secret as string;
    server.clock.advance(6 * 60_000); // the setup is still pending (10 minutes), the authentication no longer recent
    const late = await client.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
    expect(late.data.activateTotp).toEqual({ __typename: 'AuthError', code: 'REAUTHENTICATION_REQUIRED' });
  });
});
