// Account recovery and user protection (issue 17): password reset by code and by link, email verification, signup
// without enumeration under mandatory verification, and "this wasn't me". Every mail is read from a local SMTP sink.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restApp } from '../../helpers/allauth.js';
import { codeIn, linkKeyIn, startMailSink, type MailSink } from '../../helpers/mailSink.js';
import { startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import { AUTH_STATE, CHANGE_EMAIL, login, ME, MINUTE, PASSWORD, signup, userIdOf } from '../login/support.js';
import { codeAt, userWithTotp } from '../totp/helpers.js';
import { fastArgon, passkeyAssertion, userWithKey, loginWithPasskey } from '../webauthn/helpers.js';

const REQUEST_RESET = `mutation($email: String!) { requestPasswordReset(input: { email: $email }) {
  __typename ... on AuthPayload { sessionToken authState { isAuthenticated flows { id isPending } } } ... on Error { code message } ... on AuthError { retryAfterSeconds } } }`;
const RESET = `mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { __typename ... on RecoveryOkPayload { ok } ... on Error { code message } } }`;
const VERIFY = `mutation($code: String!) { verifyEmail(input: { code: $code }) {
  __typename ... on AuthPayload { sessionToken authState { isAuthenticated flows { id isPending } } } ... on Error { code message } } }`;
const REPORT = `mutation($key: String!) { reportCompromise(input: { key: $key }) {
  __typename ... on ReportCompromisePayload { suspendedFactorCount emailRestored assistedRecovery } ... on Error { code message } } }`;
const NEW_PASSWORD = 'a fresh and long passphrase';

let s: TestServer;
let mail: MailSink;
beforeAll(async () => {
  s = await startTestServer({ env: { ...fastArgon, ATTEMPTS_PER_IP: '100000', WEBAUTHN_RP_ID: 'localhost' } });
  mail = await startMailSink(s);
});
afterAll(async () => {
  await mail.close();
  await s.close();
});

async function resetMail(address: string) {
  const mails = (await mail.to(address)).filter((m) => m.subject === 'Reset your password');
  return mails[mails.length - 1];
}

async function typesOf(streamId: string): Promise<string[]> {
  return (await s.app.store.readStream(streamId)).map((e) => e.type);
}

describe('password reset', () => {
  it('answers a registered and an unknown address alike (GraphQL and REST); only the registered one gets mail', async () => {
    await signup(s.appClient(), 'known@example.com');
    const strip = (body: unknown) => JSON.stringify(body).replace(/f1\.[A-Za-z0-9_.-]+/g, '<token>');
    const known = await s.appClient().gql(REQUEST_RESET, { email: 'known@example.com' });
    const unknown = await s.appClient().gql(REQUEST_RESET, { email: 'nobody@example.com' });
    expect(known.data.requestPasswordReset.authState.flows).toContainEqual({ id: 'PASSWORD_RESET_BY_CODE', isPending: true });
    expect(strip(unknown.data)).toBe(strip(known.data));
    const restKnown = await restApp(s).post('/auth/password/request', { email: 'known@example.com' });
    const restUnknown = await restApp(s).post('/auth/password/request', { email: 'nobody@example.com' });
    expect(restKnown.status).toBe(401);
    expect(restKnown.body.data.flows).toContainEqual({ id: 'password_reset_by_code', is_pending: true });
    expect(strip(restUnknown.body)).toBe(strip(restKnown.body));
    expect((await mail.to('known@example.com')).filter((m) => m.subject === 'Reset your password')).toHaveLength(2);
    expect(await mail.to('nobody@example.com')).toEqual([]);
  });

  it('the code resets once; the old sessions and the pending flow are gone; the user is told', async () => {
    const owner = s.appClient();
    await signup(owner, 'once@example.com');
    const userId = await userIdOf(s, 'once@example.com');
    const other = s.appClient((await login(s.appClient(), 'once@example.com')).sessionToken);
    // The device the account signed up on is trusted (as "trust this device" after an MFA step would record it).
    const [device] = await s.app.db.query<{ device_id: string }>(`select device_id from proj.devices where user_id = $1 limit 1`, [userId]);
    await s.app.store.append(`device-${device!.device_id}`, [{ type: 'DeviceTrusted', data: {
      deviceId: device!.device_id, userId, sessionId: 'trusted-before-reset', until: new Date(s.clock.now().getTime() + 30 * 24 * 60 * MINUTE).toISOString(), at: s.clock.now().toISOString(),
    } }], { expectedVersion: 'any', metadata: { actor: userId }, now: s.clock.now() });
    const trusted = async () => (await s.app.db.query(`select 1 from proj.devices where user_id = $1 and trusted_until is not null`, [userId])).length;
    expect(await trusted()).toBe(1);
    await s.appClient().gql(REQUEST_RESET, { email: 'once@example.com' });
    const code = codeIn(await resetMail('once@example.com'));
    expect((await s.appClient().gql(RESET, { input: { email: 'once@example.com', code: 'WRONG234', newPassword: NEW_PASSWORD } })).data.resetPassword.code).toBe('INVALID_CODE');
    expect((await s.appClient().gql(RESET, { input: { email: 'once@example.com', code, newPassword: NEW_PASSWORD } })).data.resetPassword).toEqual({ __typename: 'RecoveryOkPayload', ok: true });
    expect((await s.appClient().gql(RESET, { input: { email: 'once@example.com', code, newPassword: 'yet another passphrase' } })).data.resetPassword.code).toBe('INVALID_CODE');
    expect((await owner.gql(ME)).data.me).toBeNull();
    expect((await other.gql(ME)).data.me).toBeNull();
    // The trusted device is trusted no more: the reset ended its trust, with the reason on record.
    expect(await trusted()).toBe(0);
    expect((await s.app.store.readStream(`device-${device!.device_id}`)).filter((e) => e.type === 'DeviceTrustRevoked').map((e) => e.data.reason)).toEqual(['password_reset']);
    expect((await login(s.appClient(), 'once@example.com')).code).toBe('INVALID_CREDENTIALS');
    expect((await login(s.appClient(), 'once@example.com', NEW_PASSWORD)).__typename).toBe('AuthPayload');
    const types = await typesOf(`user-${userId}`);
    expect(types).toEqual(expect.arrayContaining(['PasswordResetRequested', 'PasswordResetRejected', 'PasswordChanged', 'PasswordReset']));
    const [reset] = (await s.app.store.readStream(`user-${userId}`)).filter((e) => e.type === 'PasswordReset');
    expect(reset!.data).toEqual({ userId, via: 'code', at: expect.any(String) });
    expect((await mail.to('once@example.com')).map((m) => m.subject)).toContain('Your password was reset');
    // No code, no key, no password in clear anywhere in the log.
    const [row] = await s.app.db.query<{ n: number }>(`select count(*)::int as n from events where data::text like $1`, [`%${code}%`]);
    expect(row!.n).toBe(0);
  });

  it('the link resets once, within 24 hours; the code expires after 15 minutes', async () => {
    await signup(s.appClient(), 'link@example.com');
    await s.appClient().gql(REQUEST_RESET, { email: 'link@example.com' });
    const message = await resetMail('link@example.com');
    const code = codeIn(message);
    const key = linkKeyIn(message, '/password/reset/key/');
    s.clock.advance(16 * MINUTE);
    expect((await s.appClient().gql(RESET, { input: { email: 'link@example.com', code, newPassword: NEW_PASSWORD } })).data.resetPassword.code).toBe('FLOW_EXPIRED');
    const rest = restApp(s);
    const reset = await rest.post('/auth/password/reset', { key, password: NEW_PASSWORD });
    expect(reset.status).toBe(401);
    const again = await restApp(s).post('/auth/password/reset', { key, password: 'yet another passphrase' });
    expect(again.status).toBe(400);
    expect(again.body.errors[0].code).toBe('invalid_or_expired_key');
    expect((await login(s.appClient(), 'link@example.com', NEW_PASSWORD)).__typename).toBe('AuthPayload');
  });

  it('over REST, the code of the pending password_reset_by_code flow resets (allauth\'s {key, password})', async () => {
    await signup(s.appClient(), 'rest-code@example.com');
    const rest = restApp(s);
    expect((await rest.post('/auth/password/request', { email: 'rest-code@example.com' })).status).toBe(401);
    const code = codeIn(await resetMail('rest-code@example.com'));
    const wrong = await rest.post('/auth/password/reset', { key: 'WRONG234', password: NEW_PASSWORD });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatchObject({ code: 'invalid_or_expired_key', param: 'key' });
    const reset = await rest.post('/auth/password/reset', { key: code, password: NEW_PASSWORD });
    expect(reset.status).toBe(401);
    expect((await restApp(s).post('/auth/login', { email: 'rest-code@example.com', password: NEW_PASSWORD })).status).toBe(200);
  });

  it('never bypasses MFA: an account with TOTP still gets the MFA step after a reset, and its old session is gone', async () => {
    const user = await userWithTotp(s, 'mfa-reset@example.com');
    await s.appClient().gql(REQUEST_RESET, { email: 'mfa-reset@example.com' });
    const code = codeIn(await resetMail('mfa-reset@example.com'));
    expect((await s.appClient().gql(RESET, { input: { email: 'mfa-reset@example.com', code, newPassword: NEW_PASSWORD } })).data.resetPassword.ok).toBe(true);
    expect((await user.client.gql(ME)).data.me).toBeNull();
    const next = await login(s.appClient(), 'mfa-reset@example.com', NEW_PASSWORD);
    expect(next.authState.isAuthenticated).toBe(false);
    expect(next.authState.flows).toContainEqual(expect.objectContaining({ id: 'MFA_AUTHENTICATE', isPending: true }));
    void codeAt;
  });

  it('is throttled per address: the 11th request for one email in the window is refused, registered or not', async () => {
    await signup(s.appClient(), 'throttle@example.com');
    for (const email of ['throttle@example.com', 'throttle-unknown@example.com']) {
      const answers: string[] = [];
      for (let i = 0; i < 11; i++) {
        const res = await s.appClient().gql(REQUEST_RESET, { email });
        answers.push(res.data.requestPasswordReset.__typename === 'AuthPayload' ? 'ok' : res.data.requestPasswordReset.code);
      }
      expect(answers).toEqual([...Array(10).fill('ok'), 'RATE_LIMITED']);
    }
  });

  it('of 20 concurrent submissions of one code exactly one resets', async () => {
    if (!s.database.url) return; // real concurrency: PostgreSQL only
    await signup(s.appClient(), 'race@example.com');
    await s.appClient().gql(REQUEST_RESET, { email: 'race@example.com' });
    const code = codeIn(await resetMail('race@example.com'));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      s.appClient().gql(RESET, { input: { email: 'race@example.com', code, newPassword: `${NEW_PASSWORD} ${i}` } })));
    const ok = answers.filter((a) => a.data.resetPassword.__typename === 'RecoveryOkPayload');
    expect(ok).toHaveLength(1);
    const userId = await userIdOf(s, 'race@example.com');
    expect((await typesOf(`user-${userId}`)).filter((t) => t === 'PasswordReset')).toHaveLength(1);
  });
});

describe('email verification (optional, the default)', () => {
  it('an email change waits for the new address\'s code; the old address is told, with a "this wasn\'t me" link', async () => {
    const owner = s.appClient();
    await signup(owner, 'old@example.com');
    const changed = await owner.gql(CHANGE_EMAIL, { email: 'new@example.com' });
    expect(changed.data.changeEmail).toEqual({ __typename: 'User', email: 'old@example.com' });
    expect((await login(s.appClient(), 'new@example.com')).code).toBe('INVALID_CREDENTIALS');
    const notice = (await mail.to('old@example.com')).find((m) => m.subject === 'Someone asked to change the email address of your account');
    expect(notice?.text).toContain('/account/compromised/');
    const code = codeIn((await mail.to('new@example.com')).find((m) => m.subject === 'Confirm your email address'));
    expect((await owner.gql(VERIFY, { code })).data.verifyEmail.__typename).toBe('AuthPayload');
    expect((await owner.gql(AUTH_STATE)).data.authState.user.email).toBe('new@example.com');
    expect((await login(s.appClient(), 'new@example.com')).__typename).toBe('AuthPayload');
  });
});

describe('mandatory verification', () => {
  let m: TestServer;
  let box: MailSink;
  beforeAll(async () => {
    m = await startTestServer({ env: { ...fastArgon, ATTEMPTS_PER_IP: '100000', ACCOUNT_EMAIL_VERIFICATION: 'mandatory' } });
    box = await startMailSink(m);
  });
  afterAll(async () => {
    await box.close();
    await m.close();
  });

  it('lets nobody in before the code: signup and login answer VERIFY_EMAIL, the code signs in', async () => {
    const client = m.appClient();
    const signed = await signup(client, 'fresh@example.com');
    expect(signed.authState).toMatchObject({ isAuthenticated: false });
    expect(signed.authState.flows).toContainEqual(expect.objectContaining({ id: 'VERIFY_EMAIL', isPending: true }));
    expect((await client.gql(ME)).data.me).toBeNull();
    const later = m.appClient();
    const loggedIn = await login(later, 'fresh@example.com');
    expect(loggedIn.authState.flows).toContainEqual(expect.objectContaining({ id: 'VERIFY_EMAIL', isPending: true }));
    expect((await later.gql(ME)).data.me).toBeNull();
    const codes = (await box.to('fresh@example.com')).filter((x) => x.subject === 'Confirm your email address');
    expect(codes).toHaveLength(2);
    expect((await later.gql(VERIFY, { code: 'WRONG234' })).data.verifyEmail.code).toBe('INVALID_CODE');
    const verified = await later.gql(VERIFY, { code: codeIn(codes[1]) });
    expect(verified.data.verifyEmail.authState.isAuthenticated).toBe(true);
    expect((await later.gql(ME)).data.me.email).toBe('fresh@example.com');
  });

  it('signup for a taken address answers exactly like a fresh one (apart from ids), and the owner gets a notice instead of a code', async () => {
    await signup(m.appClient(), 'taken@example.com');
    const strip = (body: unknown) => JSON.stringify(body).replace(/f1\.[A-Za-z0-9_.-]+/g, '<token>').replace(/"expiresAt":"[^"]+"/g, '');
    const SIGNUP_FULL = `mutation($input: CredentialsInput!) { signup(input: $input) { __typename ... on AuthPayload { sessionToken authState { isAuthenticated user { id } flows { id isPending types } } } ... on Error { code message } } }`;
    const taken = await m.appClient().gql(SIGNUP_FULL, { input: { email: 'taken@example.com', password: PASSWORD } });
    const fresh = await m.appClient().gql(SIGNUP_FULL, { input: { email: 'fresh2@example.com', password: PASSWORD } });
    expect(strip(taken.data)).toBe(strip(fresh.data));
    const restTaken = await restApp(m).post('/auth/signup', { email: 'taken@example.com', password: PASSWORD });
    const restFresh = await restApp(m).post('/auth/signup', { email: 'fresh3@example.com', password: PASSWORD });
    expect(restTaken.status).toBe(401);
    expect(strip(restTaken.body)).toBe(strip(restFresh.body));
    const ownerMail = (await box.to('taken@example.com')).map((x) => x.subject);
    expect(ownerMail.filter((x) => x === 'Someone tried to sign up with your email address')).toHaveLength(2);
    expect(ownerMail.filter((x) => x === 'Confirm your email address')).toHaveLength(1); // the owner's own signup only
  });
});

describe('"this wasn\'t me"', () => {
  async function reportKey(address: string, subject: string): Promise<string> {
    const notice = (await mail.to(address)).filter((x) => x.subject === subject).pop();
    return linkKeyIn(notice, '/account/compromised/');
  }

  it('after an attacker added a passkey: the passkey is suspended, every session ends, the next login needs a reset, the events tell it', async () => {
    // The attacker knows the password and registers a passkey of their own; the owner's mailbox gets the notice.
    const attacker = await userWithKey(s, 'victim@example.com', { passwordless: true });
    // The owner, signing in meanwhile, is stopped at the MFA step the attacker's passkey now asks for.
    const ownerSession = s.appClient((await login(s.appClient(), 'victim@example.com')).sessionToken);
    const key = await reportKey('victim@example.com', 'A sign-in method was added to your account');
    const report = await s.browser().gql(REPORT, { key });
    expect(report.data.reportCompromise).toEqual({ __typename: 'ReportCompromisePayload', suspendedFactorCount: 1, emailRestored: false, assistedRecovery: true });
    expect((await attacker.client.gql(ME)).data.me).toBeNull();
    expect((await ownerSession.gql(ME)).data.me).toBeNull();
    expect((await login(s.appClient(), 'victim@example.com')).code).toBe('PASSWORD_RESET_REQUIRED');
    const { client, token, credential } = await passkeyAssertion(s, attacker.key);
    const passkey = await client.gql(loginWithPasskey, { credential, token });
    expect(passkey.data.loginWithPasskey.__typename).not.toBe('AuthPayload');
    expect((await s.browser().gql(REPORT, { key })).data.reportCompromise.code).toBe('INVALID_KEY');
    expect(await typesOf(`authenticators-${attacker.userId}`)).toContain('FactorSuspended');
    const userEvents = await s.app.store.readStream(`user-${attacker.userId}`);
    expect(userEvents.find((e) => e.type === 'CompromiseReported')!.data).toMatchObject({ causeType: 'WebAuthnCredentialRegistered', assistedRecovery: true });
    const revoked = await s.app.db.query<{ n: number }>(`select count(*)::int as n from events where type = 'SessionRevoked' and data->>'userId' = $1 and data->>'reason' = 'compromise_reported'`, [attacker.userId]);
    expect(revoked[0]!.n).toBeGreaterThanOrEqual(1);
    expect(await typesOf(`user-${attacker.userId}`)).toContain('CompromiseReported');
    // The only second factor was suspended: even after a reset by email, no way in without an administrator.
    await s.appClient().gql(REQUEST_RESET, { email: 'victim@example.com' });
    await s.appClient().gql(RESET, { input: { email: 'victim@example.com', code: codeIn(await resetMail('victim@example.com')), newPassword: NEW_PASSWORD } });
    expect((await login(s.appClient(), 'victim@example.com', NEW_PASSWORD)).code).toBe('ACCOUNT_LOCKED');
  });

  it('used by someone holding only the mailbox against the owner\'s factor: no login without a second factor', async () => {
    // The owner has TOTP and then adds a key; the mailbox holder reports the key's notice and resets the password.
    const owner = await userWithTotp(s, 'mailbox@example.com');
    void owner;
    const key = await reportKey('mailbox@example.com', 'A sign-in method was added to your account');
    const report = await s.appClient().gql(REPORT, { key });
    expect(report.data.reportCompromise).toMatchObject({ suspendedFactorCount: 1, assistedRecovery: true });
    await s.appClient().gql(REQUEST_RESET, { email: 'mailbox@example.com' });
    const code = codeIn(await resetMail('mailbox@example.com'));
    expect((await s.appClient().gql(RESET, { input: { email: 'mailbox@example.com', code, newPassword: NEW_PASSWORD } })).data.resetPassword.ok).toBe(true);
    const attempt = await login(s.appClient(), 'mailbox@example.com', NEW_PASSWORD);
    expect(attempt.__typename).not.toBe('AuthPayload');
    expect(attempt.code).toBe('ACCOUNT_LOCKED');
  });

  it('with another factor left, the suspended one is not offered and a reset login still stops at the MFA step', async () => {
    const owner = await userWithTotp(s, 'two@example.com');
    // A second factor: a key registered by the owner (from a fresh AAL2 session).
    const { codeAt: at } = await import('../totp/helpers.js');
    const mfa = s.appClient();
    await login(mfa, 'two@example.com');
    s.clock.advance(30_000);
    await mfa.gql(`mutation($code: String!) { authenticateMfa(input: { code: $code }) { __typename ... on AuthPayload { sessionToken } } }`, { code: await at(owner.secret, s.clock.now().getTime()) });
    const { softKey, beginRegistration, register } = await import('../webauthn/helpers.js');
    const soft = softKey(s);
    const begun = await mfa.gql(beginRegistration, { p: false });
    expect((await mfa.gql(register, { name: 'Key', credential: soft.register(begun.data.beginWebAuthnRegistration.creationOptions) })).data.registerWebAuthn.__typename).toBe('RegisterWebAuthnPayload');
    const key = await reportKey('two@example.com', 'A sign-in method was added to your account');
    expect((await s.appClient().gql(REPORT, { key })).data.reportCompromise).toMatchObject({ suspendedFactorCount: 1, assistedRecovery: false });
    await s.appClient().gql(REQUEST_RESET, { email: 'two@example.com' });
    await s.appClient().gql(RESET, { input: { email: 'two@example.com', code: codeIn(await resetMail('two@example.com')), newPassword: NEW_PASSWORD } });
    const next = await login(s.appClient(), 'two@example.com', NEW_PASSWORD);
    const flow = next.authState.flows.find((f: { id: string }) => f.id === 'MFA_AUTHENTICATE');
    expect(flow.types).not.toContain('WEBAUTHN');
    expect(next.authState.isAuthenticated).toBe(false);
  });
});

void ({} as GraphQLClient);
