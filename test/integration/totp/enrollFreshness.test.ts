// Adding a first factor needs a recent authentication: an old, stolen session cannot enrol the attacker's
// authenticator app (and so take the recovery codes and an AAL2 session).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { PASSWORD, setupTotpMutation } from './helpers.js';

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
});
