// Shared steps for the TOTP suites: a user with TOTP active, pending logins, codes at the server's clock.
import { generateTotpCode } from '../../../src/crypto/totp.js';
import { runTool } from '../../helpers/tools.js';
import { signedUpUser, type GraphQLClient, type TestServer } from '../../helpers/server.js';

export const PASSWORD = 'correct horse battery staple';
/** A step boundary: 2026-01-01T00:00:00Z is a multiple of 30 s. */
export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
export const fastArgon = { ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' };

export const setupTotpMutation = `mutation { setupTotp { __typename ... on TotpSetup { secret totpUrl qrCodeSvg } ... on Error { code } } }`;
export const activateTotpMutation = `mutation($code: String!) { activateTotp(input: { code: $code }) {
  __typename ... on ActivateTotpPayload { recoveryCodes sessionToken authenticator { __typename createdAt lastUsedAt } } ... on Error { code } } }`;
export const authenticateMfaMutation = `mutation($code: String!) { authenticateMfa(input: { code: $code }) {
  __typename ... on AuthPayload { sessionToken authState { isAuthenticated session { aal methods { method } } } } ... on Error { code message } } }`;
export const mfaReauthenticateMutation = `mutation($code: String!) { mfaReauthenticate(input: { code: $code }) {
  __typename ... on AuthPayload { sessionToken authState { session { aal methods { method } } } } ... on Error { code } } }`;
export const meQuery = `{ me { id authenticators { __typename createdAt lastUsedAt ... on RecoveryCodesAuthenticator { totalCodeCount unusedCodeCount } } } }`;
export const loginMutation = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) {
  __typename ... on AuthPayload { sessionToken authState { flows { id isPending types } } } ... on Error { code } } }`;

/** The code OATH Toolkit computes for that instant: an implementation independent of ours. */
export async function oathtool(secret: string, nowMs: number): Promise<string> {
  return (await runTool('oathtool', ['--totp', '-b', `--now=${new Date(nowMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, secret])).trim();
}

export function codeAt(secret: string, nowMs: number): Promise<string> {
  return generateTotpCode({ secret, nowMs });
}

export interface TotpUser {
  client: GraphQLClient;
  email: string;
  userId: string;
  secret: string;
  recoveryCodes: string[];
}

/** Signs up, sets up TOTP and activates it at the current clock (which uses the current step). */
export async function userWithTotp(server: TestServer, email: string): Promise<TotpUser> {
  const client = await signedUpUser(server, email, PASSWORD);
  const setup = await client.gql(setupTotpMutation);
  const secret = setup.data.setupTotp.secret as string;
  const activated = await client.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
  if (activated.data.activateTotp.__typename !== 'ActivateTotpPayload') throw new Error(JSON.stringify(activated));
  const me = await client.gql(meQuery);
  return { client, email, userId: me.data.me.id, secret, recoveryCodes: activated.data.activateTotp.recoveryCodes };
}

/** A password login that stops at MFA_AUTHENTICATE; the client holds the pending token. */
export async function pendingLogin(server: TestServer, email: string): Promise<GraphQLClient> {
  const client = server.appClient();
  const res = await client.gql(loginMutation, { email, password: PASSWORD });
  const flows = res.data.login.authState?.flows ?? [];
  if (!flows.some((f: { id: string }) => f.id === 'MFA_AUTHENTICATE')) throw new Error(`expected MFA_AUTHENTICATE: ${JSON.stringify(res)}`);
  return client;
}
