// Recovery codes die with the last second factor: removing a factor the user fears is compromised leaves no old code
// that still opens the account, and the next first factor comes with a fresh set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { activateTotpMutation, authenticateMfaMutation, codeAt, mfaReauthenticateMutation, pendingLogin, setupTotpMutation, userWithTotp } from './helpers.js';

describe('recovery codes after the last factor is removed', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('refuses the old codes, shows none, and issues a new set with the next factor', async () => {
    const user = await userWithTotp(server, 'rotate@example.com');
    const oldCodes = user.recoveryCodes as string[];
    expect(oldCodes).toHaveLength(10);
    const removed = await user.client.gql(`mutation { deactivateTotp { __typename ... on Error { code } } }`);
    expect(removed.data.deactivateTotp.__typename).not.toBe('AuthError');

    const me = await user.client.gql(`{ me { authenticators { __typename } } }`);
    expect(me.data.me.authenticators).toEqual([]);
    const stepUp = await user.client.gql(mfaReauthenticateMutation, { code: oldCodes[0] });
    expect(stepUp.data.mfaReauthenticate.__typename).toBe('AuthError');

    server.clock.advance(60_000);
    const setup = await user.client.gql(setupTotpMutation);
    const secret = setup.data.setupTotp.secret as string;
    const activated = await user.client.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
    const newCodes = activated.data.activateTotp.recoveryCodes as string[];
    expect(newCodes).toHaveLength(10);
    expect(newCodes.some((c) => oldCodes.includes(c))).toBe(false);

    server.clock.advance(60_000);
    const attacker = await pendingLogin(server, user.email);
    expect((await attacker.gql(authenticateMfaMutation, { code: oldCodes[1] })).data.authenticateMfa.code).toBe('INVALID_CODE');
    const owner = await pendingLogin(server, user.email);
    expect((await owner.gql(authenticateMfaMutation, { code: newCodes[0] })).data.authenticateMfa.__typename).toBe('AuthPayload');
  });
});
