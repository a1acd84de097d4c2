// A password change (or a deletion) ends every way into the account the old password opened: the sessions, the
// pending MFA steps, and a login that verified the old password while the change committed. On PostgreSQL, so the
// interleaving is real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, codeAt, pendingLogin, userWithTotp } from '../totp/helpers.js';
import { CHANGE_PASSWORD, DELETE_ACCOUNT, LOGIN, PASSWORD } from './support.js';

const NEW_PASSWORD = 'an entirely new passphrase';

/** Pauses the next login right after its hash has verified the password (`verified`), until `releaseLogin`. */
function pauseAfterNextVerify(server: TestServer): { verified: Promise<void>; releaseLogin: () => void; restore: () => void } {
  const verify = server.app.passwords.verify.bind(server.app.passwords);
  let entered!: () => void;
  const verified = new Promise<void>((resolve) => { entered = resolve; });
  let releaseLogin!: () => void;
  const released = new Promise<void>((resolve) => { releaseLogin = resolve; });
  let holdNext = true;
  server.app.passwords.verify = async (hash, password) => {
    const result = await verify(hash, password);
    if (holdNext) {
      holdNext = false;
      entered();
      await released;
    }
    return result;
  };
  return { verified, releaseLogin, restore: () => { server.app.passwords.verify = verify; } };
}

describe('a password change racing a login', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('a login that verified the old password while the change committed gets no session', async () => {
    const owner = await signedUpUser(server, 'race@example.com', PASSWORD);
    // Hold the login right after its hash verified the old password, until the change has committed.
    const { verified, releaseLogin, restore } = pauseAfterNextVerify(server);
    const attacker = server.appClient();
    const login = attacker.gql(LOGIN, { input: { email: 'race@example.com', password: PASSWORD } });
    await verified;
    const change = await owner.gql(CHANGE_PASSWORD, { current: PASSWORD, next: NEW_PASSWORD });
    expect(change.data.changePassword.__typename).toBe('ChangePasswordPayload');
    releaseLogin();
    const answer = (await login).data.login;
    restore();
    expect(answer.code).toBe('INVALID_CREDENTIALS');
    expect((await attacker.gql(`{ me { id } }`)).data.me).toBeNull();
    const [live] = await server.app.db.query<{ n: number }>(
      `select count(*)::int as n from proj.sessions s join proj.users u on u.user_id = s.user_id where u.email_hash = $1 and s.ended_at is null`,
      [server.app.personalData.hashes.email('race@example.com')],
    );
    expect(live!.n).toBe(1); // the owner's own session only
  });

  it('a login whose account changed in another way while it hashed still opens its session (decided again, the same)', async () => {
    await signedUpUser(server, 'moved@example.com', PASSWORD);
    const [owner] = await server.app.db.query<{ userId: string }>(`select user_id as "userId" from proj.users where email_hash = $1`, [server.app.personalData.hashes.email('moved@example.com')]);
    const { verified, releaseLogin, restore } = pauseAfterNextVerify(server);
    const login = server.appClient().gql(LOGIN, { input: { email: 'moved@example.com', password: PASSWORD } });
    await verified;
    // The user stream moves (a role granted) after the login read it: the login's append, which holds that stream at
    // the version it read, fails, and the transaction runs again on the stream as it is now.
    const stream = `user-${owner!.userId}`;
    const before = await server.app.store.streamVersion(stream);
    await server.app.store.append(stream, [{ type: 'RoleGranted', data: { userId: owner!.userId, role: 'analyst', at: server.clock.now().toISOString() } }],
      { expectedVersion: before, metadata: { actor: 'test' }, now: server.clock.now() });
    releaseLogin();
    const answer = (await login).data.login;
    restore();
    expect(answer.__typename).toBe('AuthPayload');
    // One login stream, written once: LoginStarted appears once for this account's new flow.
    const [started] = await server.app.db.query<{ n: number }>(
      `select count(*)::int as n from events e where e.type = 'LoginStarted' and e.stream_id in (select 'login-' || flow_id from proj.login_flows where user_id = $1)`, [owner!.userId]);
    expect(started!.n).toBe(1);
  });

  it('ends the pending logins (MFA step not yet taken) of the user', async () => {
    const user = await userWithTotp(server, 'pending@example.com');
    const pending = await pendingLogin(server, user.email);
    // The owner has a second factor: the change needs a recent AAL2 session, which activation just gave it.
    const change = await user.client.gql(CHANGE_PASSWORD, { current: PASSWORD, next: NEW_PASSWORD });
    expect(change.data.changePassword.__typename).toBe('ChangePasswordPayload');
    server.clock.advance(30_000);
    const step = await pending.gql(authenticateMfaMutation, { code: await codeAt(user.secret, server.clock.now().getTime()) });
    expect(step.data.authenticateMfa.code).toBe('FLOW_NOT_PENDING');
  });

  it('deleting the account ends its pending logins too', async () => {
    const user = await userWithTotp(server, 'gone@example.com');
    const pending = await pendingLogin(server, user.email);
    expect((await user.client.gql(DELETE_ACCOUNT)).data.deleteAccount.ok).toBe(true);
    server.clock.advance(30_000);
    const step = await pending.gql(authenticateMfaMutation, { code: await codeAt(user.secret, server.clock.now().getTime()) });
    expect(step.data.authenticateMfa.code).toBe('FLOW_NOT_PENDING');
  });
});
