// Shared steps for the WebAuthn suites: users with a soft-authenticator key, pending logins, the ceremonies' mutations.
import { createSoftAuthenticator, type SoftAuthenticator, type SoftOverrides } from '../../fixtures/softAuthenticator.js';
import { signedUpUser, type GraphQLClient, type TestServer } from '../../helpers/server.js';

export const PASSWORD = 'correct horse battery staple';
export const fastArgon = { ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' };

export const beginRegistration = `mutation($p: Boolean!) { beginWebAuthnRegistration(input: { passwordless: $p }) {
  __typename ... on WebAuthnCreationOptions { creationOptions } ... on Error { code message } } }`;
export const register = `mutation($name: String!, $credential: JSON!) { registerWebAuthn(input: { name: $name, credential: $credential }) {
  __typename ... on RegisterWebAuthnPayload { recoveryCodes sessionToken authenticator { __typename ... on WebAuthnAuthenticator { id name isPasswordless } } } ... on Error { code message } } }`;
export const beginAuthentication = `mutation($purpose: WebAuthnPurpose!) { beginWebAuthnAuthentication(input: { purpose: $purpose }) {
  __typename ... on WebAuthnRequestOptions { requestOptions ceremonyToken } ... on Error { code message } } }`;
export const authenticate = `mutation($credential: JSON!) { authenticateWebAuthn(input: { credential: $credential }) {
  __typename ... on AuthPayload { sessionToken authState { isAuthenticated session { aal methods { method } } } } ... on Error { code message } } }`;
export const loginWithPasskey = `mutation($credential: JSON!, $token: String) { loginWithPasskey(input: { credential: $credential, ceremonyToken: $token }) {
  __typename ... on AuthPayload { sessionToken authState { isAuthenticated user { id } session { aal methods { method } } } } ... on Error { code message } } }`;
export const loginMutation = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) {
  __typename ... on AuthPayload { sessionToken authState { flows { id isPending types } } } ... on Error { code } } }`;
export const meQuery = `{ me { id authenticators { __typename ... on WebAuthnAuthenticator { id name isPasswordless createdAt lastUsedAt } } } }`;

export function softKey(server: TestServer, options: { counterMode?: 'increment' | 'zero' } = {}): SoftAuthenticator {
  return createSoftAuthenticator({ origin: server.url, rpId: 'localhost', ...options });
}

export interface KeyUser {
  client: GraphQLClient;
  email: string;
  userId: string;
  key: SoftAuthenticator;
  authenticatorId: string;
}

/** Signs up and registers one soft key (a passkey when `passwordless`). */
export async function userWithKey(server: TestServer, email: string, options: { passwordless?: boolean; counterMode?: 'increment' | 'zero' } = {}): Promise<KeyUser> {
  const client = await signedUpUser(server, email, PASSWORD);
  const key = softKey(server, options);
  const begun = await client.gql(beginRegistration, { p: options.passwordless ?? false });
  const credential = key.register(begun.data.beginWebAuthnRegistration.creationOptions);
  const registered = await client.gql(register, { name: 'Key', credential });
  if (registered.data.registerWebAuthn.__typename !== 'RegisterWebAuthnPayload') throw new Error(JSON.stringify(registered));
  const me = await client.gql(meQuery);
  return { client, email, userId: me.data.me.id, key, authenticatorId: registered.data.registerWebAuthn.authenticator.id };
}

export async function pendingLogin(server: TestServer, email: string): Promise<GraphQLClient> {
  const client = server.appClient();
  const res = await client.gql(loginMutation, { email, password: PASSWORD });
  if (!res.data.login.authState.flows.some((f: { id: string }) => f.id === 'MFA_AUTHENTICATE')) throw new Error(JSON.stringify(res));
  return client;
}

/** Begins the MFA step on `client` and signs with `key` (with tampering). */
export async function mfaAssertion(client: GraphQLClient, key: SoftAuthenticator, overrides?: SoftOverrides) {
  const begun = await client.gql(beginAuthentication, { purpose: 'MFA' });
  return key.assert(begun.data.beginWebAuthnAuthentication.requestOptions, overrides);
}

export async function passkeyAssertion(server: TestServer, key: SoftAuthenticator, overrides?: SoftOverrides) {
  const client = server.appClient();
  const begun = await client.gql(beginAuthentication, { purpose: 'PASSKEY_LOGIN' });
  const payload = begun.data.beginWebAuthnAuthentication;
  return { client, token: payload.ceremonyToken as string, credential: key.assert(payload.requestOptions, overrides) };
}

export async function eventsOf(server: TestServer, streamId: string): Promise<Array<{ type: string; data: any }>> {
  return (await server.app.store.readStream(streamId)) as unknown as Array<{ type: string; data: any }>;
}
