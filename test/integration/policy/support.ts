// Shared steps of the policy suites: an administrator at AAL2 (TOTP set up in the grace period), and reads of the log.
import { eventColumns, toRecordedEvent } from '../../../src/eventstore/eventStore.js';
import { runUserCommand } from '../../../src/cli/users.js';
import { findUserByEmail } from '../../../src/projections/users.js';
import type { GraphQLClient, TestServer } from '../../helpers/server.js';
import { activateTotpMutation, codeAt, loginMutation, PASSWORD, setupTotpMutation } from '../totp/helpers.js';

export const DAY = 86_400_000;

export const AUTH_STATE = `{ authState { isAuthenticated mfaEnrollmentDeadline flows { id isPending } session { aal } } }`;

/** An admin made by the CLI, signed in and with TOTP activated: the session is AAL2. */
export async function adminAtAal2(server: TestServer, email: string): Promise<{ client: GraphQLClient; userId: string; secret: string }> {
  await runUserCommand(server.app, 'create', { email, password: PASSWORD, admin: true });
  const client = server.appClient();
  await client.gql(loginMutation, { email, password: PASSWORD });
  const secret = (await client.gql(setupTotpMutation)).data.setupTotp.secret as string;
  const activated = await client.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) });
  if (activated.data.activateTotp.__typename !== 'ActivateTotpPayload') throw new Error(JSON.stringify(activated));
  return { client, userId: (await findUserByEmail(server.app.db, server.app.personalData.hashes.email(email)))!.user_id, secret };
}

export async function userIdByEmail(server: TestServer, email: string): Promise<string> {
  return (await findUserByEmail(server.app.db, server.app.personalData.hashes.email(email)))!.user_id;
}

export async function eventsOf(server: TestServer, type: string, userId: string): Promise<Array<{ data: any; metadata: any }>> {
  // Through the vault: an administrator's reason is sealed under the user's key, like every personal field.
  const rows = await server.app.db.query(`select ${eventColumns} from events where type = $1 and data->>'userId' = $2 order by position`, [type, userId]);
  return (await server.app.store.unseal(server.app.db, rows.map((r) => toRecordedEvent(r as never)))).map((e) => ({ data: e.data, metadata: e.metadata }));
}

export async function notificationKinds(server: TestServer, userId: string): Promise<string[]> {
  const rows = await server.app.db.query<{ kind: string }>(`select kind from notification_outbox where user_id = $1 order by id`, [userId]);
  return rows.map((r) => r.kind);
}

export async function loginFlows(client: GraphQLClient, email: string): Promise<{ typename: string; flows: string[] }> {
  const res = await client.gql(loginMutation, { email, password: PASSWORD });
  const login = res.data.login;
  return { typename: login.__typename, flows: (login.authState?.flows ?? []).map((f: { id: string }) => f.id) };
}
