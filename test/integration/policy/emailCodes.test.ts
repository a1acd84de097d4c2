// Email one-time codes as the weaker second factor: enrolment proves the address, the MFA step asks for a code through
// the outbox (read here from a local SMTP sink), the code is single use (also under 20 concurrent submissions),
// expires after 10 minutes by the injected clock, resending is throttled, wrong codes spend the account's shared
// budget, the session is AAL1 (password + email) and never an admin's, an email reset refuses it, and the code never
// appears in an event, a projection or a log line.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runUserCommand } from '../../../src/cli/users.js';
import { newId } from '../../../src/crypto/tokens.js';
import { createDelivery, startNotificationWorker, type NotificationWorker } from '../../../src/notifications/worker.js';
import { signedUpUser, startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import { fastArgon, loginMutation, PASSWORD } from '../totp/helpers.js';
import { AUTH_STATE, DAY, eventsOf, userIdByEmail } from './support.js';

const BEGIN = `mutation { beginEmailCodeEnrollment { __typename ... on EmailCodeSent { expiresAt resendAfterSeconds } ... on Error { code } } }`;
const ACTIVATE = `mutation($code: String!) { activateEmailCode(input: { code: $code }) { __typename
  ... on ActivateEmailCodePayload { authenticators { type } } ... on Error { code } } }`;
const REQUEST = `mutation { requestEmailCode { __typename ... on EmailCodeSent { expiresAt resendAfterSeconds } ... on Error { code } ... on AuthError { retryAfterSeconds } } }`;
const AUTHENTICATE = `mutation($code: String!) { authenticateMfa(input: { code: $code }) { __typename
  ... on AuthPayload { sessionToken authState { isAuthenticated flows { id } session { aal methods { method } } } } ... on Error { code } } }`;
const REMOVE = `mutation { removeEmailCode { __typename ... on RemoveEmailCodePayload { authenticators { type } } ... on Error { code } } }`;

let server: TestServer;
let worker: NotificationWorker;
let sink: SMTPServer;
const mails: Array<{ to: string; text: string }> = [];
const logLines: string[] = [];
const codesSeen: string[] = [];

beforeAll(async () => {
  sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => { mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), text: raw }); callback(); });
    },
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const port = (sink.server.address() as { port: number }).port;
  // Every log line at every level, before any redaction: the code must never reach the logger at all.
  const capture = new Writable({ write(chunk, _enc, done) { logLines.push(chunk.toString()); done(); } });
  server = await startTestServer({
    env: { ...fastArgon, MFA_SUPPORTED_TYPES: 'totp,webauthn,recovery_codes,email', LOGIN_FLOW_TTL_SECONDS: '3600', ATTEMPTS_PER_ACCOUNT: '40', LOCKOUT_HARD_LIMIT: '50' },
    logger: pino({ level: 'trace' }, capture),
  });
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const deliver = createDelivery({ ...server.app, config: { ...server.app.config, smtpUrl: `smtp://127.0.0.1:${port}` } });
  worker = startNotificationWorker(server.app, { autoStart: false, deliver });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await worker?.stop();
  await server?.close();
  await new Promise<void>((resolve) => sink.close(() => resolve()));
});

/** Delivers the outbox and reads the newest code sent to `email` from the SMTP sink. */
async function codeSentTo(email: string): Promise<string> {
  await worker.drain();
  const mail = mails.filter((m) => m.to === email).at(-1);
  const code = mail && /is (\d{6,8})\./.exec(mail.text.replace(/=\r?\n/g, ''))?.[1];
  if (!code) throw new Error(`no code mailed to ${email}`);
  codesSeen.push(code);
  return code;
}

/** A user with email codes as their only factor; returns the signed-in client. */
async function userWithEmailCode(email: string): Promise<{ client: GraphQLClient; userId: string }> {
  const client = await signedUpUser(server, email);
  expect((await client.gql(BEGIN)).data.beginEmailCodeEnrollment.__typename).toBe('EmailCodeSent');
  const code = await codeSentTo(email);
  const activated = (await client.gql(ACTIVATE, { code })).data.activateEmailCode;
  expect(activated.authenticators.map((a: { type: string }) => a.type)).toEqual(['EMAIL']);
  return { client, userId: await userIdByEmail(server, email) };
}

async function pendingEmailLogin(email: string): Promise<GraphQLClient> {
  const client = server.appClient();
  const login = (await client.gql(loginMutation, { email, password: PASSWORD })).data.login;
  expect(login.authState.flows).toEqual([expect.objectContaining({ id: 'MFA_AUTHENTICATE', types: ['EMAIL'] })]);
  return client;
}

describe('email codes', () => {
  it('enrolment proves the address: a wrong code is refused, the mailed one activates the factor, the session stays AAL1', async () => {
    const client = await signedUpUser(server, 'enrol@example.com');
    await client.gql(BEGIN);
    const code = await codeSentTo('enrol@example.com');
    const wrong = code === '000000' ? '000001' : '000000';
    expect((await client.gql(ACTIVATE, { code: wrong })).data.activateEmailCode.code).toBe('INVALID_CODE');
    expect((await client.gql(ACTIVATE, { code })).data.activateEmailCode.authenticators).toEqual([{ type: 'EMAIL' }]);
    expect((await client.gql(AUTH_STATE)).data.authState.session.aal).toBe(1);
    const userId = await userIdByEmail(server, 'enrol@example.com');
    expect((await eventsOf(server, 'EmailCodeActivated', userId))).toHaveLength(1);
  });

  it('the MFA step: requestEmailCode, then authenticateMfa with the code gives an AAL1 session with methods password and email', async () => {
    await userWithEmailCode('step@example.com');
    const pending = await pendingEmailLogin('step@example.com');
    const sent = (await pending.gql(REQUEST)).data.requestEmailCode;
    expect(sent.__typename).toBe('EmailCodeSent');
    expect(new Date(sent.expiresAt).getTime()).toBe(server.clock.now().getTime() + 600_000);
    const code = await codeSentTo('step@example.com');
    const done = (await pending.gql(AUTHENTICATE, { code })).data.authenticateMfa;
    expect(done.__typename).toBe('AuthPayload');
    expect(done.authState.session).toEqual({ aal: 1, methods: [{ method: 'password' }, { method: 'email' }] });
    // The used code means nothing to the next login.
    server.clock.advance(61_000);
    const next = await pendingEmailLogin('step@example.com');
    await next.gql(REQUEST);
    await codeSentTo('step@example.com');
    expect((await next.gql(AUTHENTICATE, { code })).data.authenticateMfa.code).toBe('INVALID_CODE');
  });

  it('20 concurrent submissions of one code: exactly one succeeds', async () => {
    const { userId } = await userWithEmailCode('race@example.com');
    const pending = await pendingEmailLogin('race@example.com');
    await pending.gql(REQUEST);
    const code = await codeSentTo('race@example.com');
    const results = await Promise.all(Array.from({ length: 20 }, () => pending.gql(AUTHENTICATE, { code })));
    const wins = results.filter((r) => r.data?.authenticateMfa?.__typename === 'AuthPayload');
    expect(wins).toHaveLength(1);
    expect(await eventsOf(server, 'EmailCodeAccepted', userId)).toHaveLength(1);
    const [{ n }] = await server.app.db.query<{ n: number }>(`select count(*)::int as n from proj.sessions where user_id = $1 and methods @> '[{"method":"email"}]'`, [userId]) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('a code expires after 10 minutes (injected clock)', async () => {
    await userWithEmailCode('expiry@example.com');
    const pending = await pendingEmailLogin('expiry@example.com');
    await pending.gql(REQUEST);
    const code = await codeSentTo('expiry@example.com');
    server.clock.advance(600_000);
    expect((await pending.gql(AUTHENTICATE, { code })).data.authenticateMfa.code).toBe('CODE_EXPIRED');
  });

  it('resending is throttled, and only the latest code counts', async () => {
    await userWithEmailCode('resend@example.com');
    const pending = await pendingEmailLogin('resend@example.com');
    await pending.gql(REQUEST);
    const first = await codeSentTo('resend@example.com');
    const again = (await pending.gql(REQUEST)).data.requestEmailCode;
    expect(again).toMatchObject({ code: 'RATE_LIMITED' });
    expect(again.retryAfterSeconds).toBeGreaterThan(0);
    server.clock.advance(61_000);
    expect((await pending.gql(REQUEST)).data.requestEmailCode.__typename).toBe('EmailCodeSent');
    const second = await codeSentTo('resend@example.com');
    if (first !== second) expect((await pending.gql(AUTHENTICATE, { code: first })).data.authenticateMfa.code).toBe('INVALID_CODE');
    server.clock.advance(61_000); // past the back-off of that one failure
    expect((await pending.gql(AUTHENTICATE, { code: second })).data.authenticateMfa.__typename).toBe('AuthPayload');
  });

  it('wrong codes draw from the account budget and lockout shared with every factor', async () => {
    const { userId } = await userWithEmailCode('budget@example.com');
    const pending = await pendingEmailLogin('budget@example.com');
    await pending.gql(REQUEST);
    const code = await codeSentTo('budget@example.com');
    const wrong = code === '111111' ? '222222' : '111111';
    for (let i = 0; i < 5; i++) expect((await pending.gql(AUTHENTICATE, { code: wrong })).data.authenticateMfa.code).toBe('INVALID_CODE');
    expect(await eventsOf(server, 'EmailCodeRejected', userId)).toHaveLength(5);
    const [failures] = await server.app.db.query<{ consecutive: number }>(`select consecutive from proj.account_failures where user_id = $1`, [userId]);
    expect(failures!.consecutive).toBe(5);
    // The back-off now applies to any factor, the right email code included.
    expect((await pending.gql(AUTHENTICATE, { code })).data.authenticateMfa.code).toBe('RATE_LIMITED');
  });

  it('an email-code session cannot act as an admin: MFA_REQUIRED in the grace period, enrol-only after it', async () => {
    const { userId } = await userWithEmailCode('email-admin@example.com');
    await runUserCommand(server.app, 'grant-role', { email: 'email-admin@example.com', role: 'admin' });
    const pending = await pendingEmailLogin('email-admin@example.com');
    await pending.gql(REQUEST);
    const done = (await pending.gql(AUTHENTICATE, { code: await codeSentTo('email-admin@example.com') })).data.authenticateMfa;
    expect(done.authState.session.aal).toBe(1);
    const unlock = `mutation($id: ID!) { unlockUser(userId: $id) { __typename ... on Error { code } } }`;
    expect((await pending.gql(unlock, { id: userId })).data.unlockUser.code).toBe('MFA_REQUIRED');
    expect((await pending.gql(`{ users { __typename ... on Error { code } } }`)).data.users.code).toBe('MFA_REQUIRED');
    server.clock.advance(7 * DAY + 1000);
    const late = await pendingEmailLogin('email-admin@example.com');
    await late.gql(REQUEST);
    const lateDone = (await late.gql(AUTHENTICATE, { code: await codeSentTo('email-admin@example.com') })).data.authenticateMfa;
    expect(lateDone.__typename).toBe('AuthPayload');
    expect((await late.gql(AUTH_STATE)).data.authState).toMatchObject({ isAuthenticated: false, flows: [{ id: 'MFA_ENROLL_REQUIRED', isPending: true }] });
  });

  it('is refused as the second factor right after a password reset by email', async () => {
    const { userId } = await userWithEmailCode('reset@example.com');
    const pending = await pendingEmailLogin('reset@example.com');
    // Issue 17 emits this when a password is reset by an emailed code or link.
    const stream = `user-${userId}`;
    const [row] = await server.app.db.query<{ v: number }>(`select max(version)::int as v from events where stream_id = $1`, [stream]);
    await server.app.store.append(stream, [{ type: 'PasswordReset', data: { userId, via: 'code', at: server.clock.now().toISOString() } }],
      { expectedVersion: row!.v, metadata: { actor: 'test', correlationId: newId() }, now: server.clock.now() });
    await worker.drain(); // the reset's own notice ("your password was reset") goes out; no code may follow it
    const mailsBefore = mails.length;
    expect((await pending.gql(REQUEST)).data.requestEmailCode.code).toBe('FACTOR_NOT_ALLOWED');
    await worker.drain();
    expect(mails.length).toBe(mailsBefore);
  });

  it('a code asked for before the reset is refused too, and the refusal is an event', async () => {
    const { userId } = await userWithEmailCode('reset2@example.com');
    const pending = await pendingEmailLogin('reset2@example.com');
    await pending.gql(REQUEST);
    const code = await codeSentTo('reset2@example.com');
    const stream = `user-${userId}`;
    const [row] = await server.app.db.query<{ v: number }>(`select max(version)::int as v from events where stream_id = $1`, [stream]);
    await server.app.store.append(stream, [{ type: 'PasswordReset', data: { userId, via: 'link', at: server.clock.now().toISOString() } }],
      { expectedVersion: row!.v, metadata: { actor: 'test', correlationId: newId() }, now: server.clock.now() });
    expect((await pending.gql(AUTHENTICATE, { code })).data.authenticateMfa.code).toBe('FACTOR_NOT_ALLOWED');
    expect((await eventsOf(server, 'EmailCodeRejected', userId)).map((e) => e.data.reason)).toEqual(['FACTOR_NOT_ALLOWED']);
  });

  it('removeEmailCode removes the factor; the next login has no MFA step', async () => {
    const { client } = await userWithEmailCode('remove@example.com');
    expect((await client.gql(REMOVE)).data.removeEmailCode.authenticators).toEqual([]);
    const login = (await server.appClient().gql(loginMutation, { email: 'remove@example.com', password: PASSWORD })).data.login;
    expect(login.authState.flows.map((f: { id: string }) => f.id)).not.toContain('MFA_AUTHENTICATE');
  });

  it('is off unless MFA_SUPPORTED_TYPES lists email', async () => {
    const other = await startTestServer({ env: fastArgon });
    try {
      const client = await signedUpUser(other, 'off@example.com');
      expect((await client.gql(BEGIN)).data.beginEmailCodeEnrollment.code).toBe('FEATURE_DISABLED');
    } finally {
      await other.close();
    }
  });

  it('no code ever appears in an event, a projection, the outbox or a log line', async () => {
    expect(codesSeen.length).toBeGreaterThan(10);
    const texts: string[] = [];
    for (const r of await server.app.db.query<{ t: string }>(`select data::text || metadata::text as t from events`)) texts.push(r.t);
    const tables = await server.app.db.query<{ table_schema: string; table_name: string }>(
      `select table_schema, table_name from information_schema.tables where table_schema in ('proj', 'public') and table_type = 'BASE TABLE'`,
    );
    for (const { table_schema, table_name } of tables) {
      for (const r of await server.app.db.query<{ t: string }>(`select t::text as t from ${table_schema}.${table_name} t`)) texts.push(r.t);
    }
    texts.push(...logLines);
    expect(logLines.length).toBeGreaterThan(0);
    const [{ sealed }] = await server.app.db.query<{ sealed: number }>(`select count(*)::int as sealed from notification_outbox where secret_ciphertext is not null`) as [{ sealed: number }];
    expect(sealed).toBe(0); // every code mailed, and its sealed copy cleared
    const leaks = codesSeen.filter((code) => texts.some((t) => new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(t)));
    expect(leaks).toEqual([]);
  });
});
