// Shared documents and probes for the login suite: what the tests send, and how they read the log and projections.
import { eventColumns, toRecordedEvent } from '../../../src/eventstore/eventStore.js';
import { newId } from '../../../src/crypto/tokens.js';
import { liveSchema } from '../../../src/projections/projector.js';
import type { GraphQLClient, TestServer } from '../../helpers/server.js';

export const PASSWORD = 'correct horse battery staple';

const authPayload = `__typename ... on AuthPayload { sessionToken authState { isAuthenticated mfaEnrollmentDeadline flows { id isPending types expiresAt } session { id aal methods { method at } } } } ... on Error { code message } ... on AuthError { field }`;

export const SIGNUP = `mutation($input: CredentialsInput!) { signup(input: $input) { ${authPayload} } }`;
export const LOGIN = `mutation($input: CredentialsInput!) { login(input: $input) { ${authPayload} } }`;
export const REAUTHENTICATE = `mutation($password: String!) { reauthenticate(input: { password: $password }) { ${authPayload} } }`;
export const LOGOUT = `mutation { logout { __typename ... on LogoutPayload { ok } ... on Error { code } } }`;
export const ME = `{ me { id email roles sessions { id isCurrent aal lastSeenAt createdAt ip userAgent } } }`;
export const AUTH_STATE = `{ authState { isAuthenticated mfaEnrollmentDeadline user { id email } flows { id isPending types } session { id aal methods { method } } } }`;
export const CHANGE_PASSWORD = `mutation($current: String!, $next: String!) { changePassword(input: { currentPassword: $current, newPassword: $next }) { __typename ... on ChangePasswordPayload { endedSessionCount } ... on Error { code message } } }`;
export const CHANGE_EMAIL = `mutation($email: String!) { changeEmail(input: { email: $email }) { __typename ... on User { email } ... on Error { code message } ... on AuthError { field } } }`;
export const DELETE_ACCOUNT = `mutation { deleteAccount { __typename ... on LogoutPayload { ok } ... on Error { code } } }`;
export const REVOKE_SESSIONS = `mutation($ids: [ID!]!) { revokeSessions(input: { ids: $ids }) { __typename ... on RevokeSessionsPayload { revokedIds } ... on Error { code } } }`;

export async function login(client: GraphQLClient, email: string, password = PASSWORD) {
  const res = await client.gql(LOGIN, { input: { email, password } });
  return res.data?.login;
}

export async function signup(client: GraphQLClient, email: string, password = PASSWORD) {
  const res = await client.gql(SIGNUP, { input: { email, password } });
  return res.data?.signup;
}

export interface StoredEvent { position: number; stream_id: string; type: string; data: any; metadata: any }

/** The events of a type as readers see them: personal data opened from its sealed form (issue 14 item 0). */
export async function eventsOfType(server: TestServer, type: string): Promise<StoredEvent[]> {
  const rows = await server.app.db.query(`select ${eventColumns} from events where type = $1 order by position`, [type]);
  const events = await server.app.store.unseal(server.app.db, rows.map((r) => toRecordedEvent(r as never)));
  return events.map((e) => ({ position: e.position, stream_id: e.streamId, type: e.type, data: e.data, metadata: e.metadata }) as StoredEvent);
}

export async function eventCount(server: TestServer): Promise<number> {
  const [row] = await server.app.db.query<{ n: number }>(`select count(*)::int as n from events`);
  return row!.n;
}

export async function userIdOf(server: TestServer, email: string): Promise<string> {
  const [row] = await server.app.db.query<{ user_id: string }>(`select user_id from ${liveSchema}.users where email_hash = $1 and not deleted`, [server.app.personalData.hashes.email(email)]);
  if (!row) throw new Error(`no user ${email}`);
  return row.user_id;
}

export async function sessionRow(server: TestServer, sessionId: string): Promise<Record<string, any> | undefined> {
  const [row] = await server.app.db.query(`select * from ${liveSchema}.sessions where session_id = $1`, [sessionId]);
  return row;
}

/**
 * Gives a user an active TOTP factor by appending the event the TOTP activation writes. The TOTP issue's tests drive
 * the real setup path (setupTotp + activateTotp); this suite only needs "a user who has a factor".
 */
export async function giveTotpFactor(server: TestServer, userId: string): Promise<void> {
  const at = server.clock.now().toISOString();
  const secretCiphertext = server.app.secrets.box.seal('JBSWY3DPEHPK3PXP', `totp:${userId}`);
  await server.app.store.append(`authenticators-${userId}`, [
    { type: 'TotpActivated', data: { userId, secretCiphertext, keyId: server.app.secrets.keys.currentKeyId, step: Math.floor(server.clock.now().getTime() / 30_000), at } },
  ], { expectedVersion: 'any', metadata: { actor: 'test', correlationId: newId() }, now: server.clock.now() });
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
