// The end of an account or of its last way in: deleting an account releases its credential ids, and a passkey-only
// account cannot remove its last passkey (it has no password to fall back on).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { beginRegistration, eventsOf, fastArgon, meQuery, PASSWORD, register, softKey, userWithKey } from './helpers.js';

const deleteAccount = `mutation { deleteAccount { __typename ... on LogoutPayload { ok } ... on Error { code } } }`;
const removeKeys = `mutation($ids: [ID!]!) { removeWebAuthn(input: { ids: $ids }) { __typename ... on RemoveWebAuthnPayload { authenticators { __typename } } ... on Error { code } } }`;
const beginSignup = `mutation($email: String!) { beginPasskeySignup(input: { email: $email }) { __typename ... on PasskeySignupOptions { creationOptions ceremonyToken } ... on Error { code } } }`;
const completeSignup = `mutation($credential: JSON!, $token: String) { completePasskeySignup(input: { credential: $credential, ceremonyToken: $token }) {
  __typename ... on PasskeySignupPayload { sessionToken } ... on Error { code } } }`;

describe('account end and last ways in', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, PASSKEY_SIGNUP_ENABLED: 'true' } });
  });
  afterAll(() => server.close());

  it('deleting an account releases its credential ids: another account can register the same id afterwards', async () => {
    const id = Buffer.alloc(32, 9).toString('base64url');
    const first = await signedUpUser(server, 'first@example.com', PASSWORD);
    const firstKey = softKey(server);
    const begun = await first.gql(beginRegistration, { p: false });
    expect((await first.gql(register, { name: 'Key', credential: firstKey.register(begun.data.beginWebAuthnRegistration.creationOptions, { credentialId: id }) })).data.registerWebAuthn.__typename).toBe('RegisterWebAuthnPayload');
    expect((await first.gql(deleteAccount)).data.deleteAccount.ok).toBe(true);

    const second = await signedUpUser(server, 'second@example.com', PASSWORD);
    const again = await second.gql(beginRegistration, { p: false });
    const result = await second.gql(register, { name: 'Key', credential: softKey(server).register(again.data.beginWebAuthnRegistration.creationOptions, { credentialId: id }) });
    expect(result.data.registerWebAuthn.__typename).toBe('RegisterWebAuthnPayload');
  });

  it('a passkey-only account cannot remove its last passkey; with a second one it can remove one', async () => {
    const client = server.appClient();
    const key = softKey(server);
    const begun = (await client.gql(beginSignup, { email: 'only-passkey@example.com' })).data.beginPasskeySignup;
    const done = await client.gql(completeSignup, { credential: key.register(begun.creationOptions), token: begun.ceremonyToken });
    expect(done.data.completePasskeySignup.__typename).toBe('PasskeySignupPayload');
    const me = async () => (await client.gql(meQuery)).data.me;
    const [only] = (await me()).authenticators.filter((a: any) => a.__typename === 'WebAuthnAuthenticator');
    expect((await client.gql(removeKeys, { ids: [only.id] })).data.removeWebAuthn.code).toBe('LAST_SIGN_IN_METHOD');
    expect((await me()).authenticators.filter((a: any) => a.__typename === 'WebAuthnAuthenticator')).toHaveLength(1);

    const more = await client.gql(beginRegistration, { p: true });
    expect((await client.gql(register, { name: 'Spare', credential: softKey(server).register(more.data.beginWebAuthnRegistration.creationOptions) })).data.registerWebAuthn.__typename).toBe('RegisterWebAuthnPayload');
    expect((await client.gql(removeKeys, { ids: [only.id] })).data.removeWebAuthn.__typename).toBe('RemoveWebAuthnPayload');
  });

  it('an account with a password may remove its only key', async () => {
    const user = await userWithKey(server, 'haspassword@example.com');
    expect((await user.client.gql(removeKeys, { ids: [user.authenticatorId] })).data.removeWebAuthn.__typename).toBe('RemoveWebAuthnPayload');
    expect((await eventsOf(server, `authenticators-${user.userId}`)).at(-1)!.type).toBe('WebAuthnCredentialRemoved');
  });
});
