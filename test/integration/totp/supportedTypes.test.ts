// MFA_SUPPORTED_TYPES decides what can be enrolled, not what keeps working: a type dropped from the list can no longer
// be set up (FEATURE_DISABLED) and config says so, while factors enrolled before keep logging their owners in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { activateTotpMutation, authenticateMfaMutation, codeAt, PASSWORD, pendingLogin, setupTotpMutation, userWithTotp } from './helpers.js';

const configQuery = `{ config { mfa { supportedTypes } } }`;
const beginRegistration = `mutation { beginWebAuthnRegistration(input: { passwordless: false }) { __typename ... on Error { code } } }`;
const regenerate = `mutation { regenerateRecoveryCodes { __typename ... on Error { code } } }`;

describe('MFA_SUPPORTED_TYPES', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('without totp: no TOTP setup or activation, config lists only what is offered, an enrolled TOTP still logs in', async () => {
    const enrolled = await userWithTotp(server, 'before@example.com');
    server.app.config.mfaSupportedTypes = ['webauthn', 'recovery_codes'];
    try {
      expect((await server.appClient().gql(configQuery)).data.config.mfa.supportedTypes).toEqual(['WEBAUTHN', 'RECOVERY_CODES']);
      const newcomer = await signedUpUser(server, 'after@example.com', PASSWORD);
      expect((await newcomer.gql(setupTotpMutation)).data.setupTotp).toEqual({ __typename: 'AuthError', code: 'FEATURE_DISABLED' });
      expect((await newcomer.gql(activateTotpMutation, { code: '123456' })).data.activateTotp).toEqual({ __typename: 'AuthError', code: 'FEATURE_DISABLED' });
      server.clock.advance(30_000);
      const pending = await pendingLogin(server, enrolled.email);
      const done = (await pending.gql(authenticateMfaMutation, { code: await codeAt(enrolled.secret, server.clock.now().getTime()) })).data.authenticateMfa;
      expect(done.authState.session.aal).toBe(2);
    } finally {
      server.app.config.mfaSupportedTypes = ['totp', 'webauthn', 'recovery_codes'];
    }
  });

  it('without webauthn: no key registration begins', async () => {
    server.app.config.mfaSupportedTypes = ['totp', 'recovery_codes'];
    try {
      const user = await signedUpUser(server, 'keyless@example.com', PASSWORD);
      expect((await user.gql(beginRegistration)).data.beginWebAuthnRegistration).toEqual({ __typename: 'AuthError', code: 'FEATURE_DISABLED' });
    } finally {
      server.app.config.mfaSupportedTypes = ['totp', 'webauthn', 'recovery_codes'];
    }
  });

  it('without recovery_codes: a first factor brings no codes and none can be regenerated', async () => {
    server.app.config.mfaSupportedTypes = ['totp', 'webauthn'];
    try {
      const user = await signedUpUser(server, 'codeless@example.com', PASSWORD);
      const secret = (await user.gql(setupTotpMutation)).data.setupTotp.secret as string;
      const activated = (await user.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) })).data.activateTotp;
      expect(activated.__typename).toBe('ActivateTotpPayload');
      expect(activated.recoveryCodes).toBeNull();
      expect((await user.gql(regenerate)).data.regenerateRecoveryCodes).toEqual({ __typename: 'AuthError', code: 'FEATURE_DISABLED' });
    } finally {
      server.app.config.mfaSupportedTypes = ['totp', 'webauthn', 'recovery_codes'];
    }
  });
});
