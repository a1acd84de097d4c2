// TOTP and recovery codes end to end over HTTP: setup from the QR code, the MFA step of login, replay, step-up,
// management, views, audit and the absence of secrets anywhere in the database.
import { runTool } from '../../helpers/tools.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole } from '../../../src/application/roles.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import {
  activateTotpMutation, authenticateMfaMutation, codeAt, fastArgon, meQuery, mfaReauthenticateMutation, oathtool,
  PASSWORD, pendingLogin, setupTotpMutation, T0, userWithTotp,
} from './helpers.js';

const system = { clientAddress: 'test', userAgent: 'test', requestId: 'test', actor: 'system' };

describe('TOTP and recovery codes over HTTP', () => {
  let server: TestServer;
  const clearTexts = new Set<string>([PASSWORD]);

  beforeAll(async () => {
    server = await startTestServer({ now: new Date(T0), env: fastArgon });
  });
  afterAll(() => server.close());

  async function types(userId: string): Promise<string[]> {
    return (await server.app.store.readStream(`authenticators-${userId}`)).map((e) => e.type);
  }

  it('sets up TOTP from the QR code with oathtool codes, shows recovery codes once, and logs in at AAL2 with totp', async () => {
    server.clock.set(T0);
    const client = await signedUpUser(server, 'qr@example.com', PASSWORD);
    const setup = (await client.gql(setupTotpMutation)).data.setupTotp;
    expect(setup.__typename).toBe('TotpSetup');
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.totpUrl).toBe(`otpauth://totp/Tessera:qr%40example.com?secret=${setup.secret}&issuer=Tessera&algorithm=SHA1&digits=6&period=30`);
    clearTexts.add(setup.secret);
    // The QR code, rasterized and read back by an independent decoder, is the URL.
    const dir = mkdtempSync(join(tmpdir(), 'tessera-qr-'));
    writeFileSync(join(dir, 'qr.svg'), setup.qrCodeSvg);
    await runTool('rsvg-convert', ['-w', '400', '-o', join(dir, 'qr.png'), join(dir, 'qr.svg')]);
    const decoded = (await runTool('zbarimg', ['--quiet', '--raw', join(dir, 'qr.png')])).trim();
    expect(decoded).toBe(setup.totpUrl);
    const secret = new URL(decoded).searchParams.get('secret')!;

    const wrong = await client.gql(activateTotpMutation, { code: '000000' === (await oathtool(secret, T0)) ? '111111' : '000000' });
    expect(wrong.data.activateTotp).toMatchObject({ __typename: 'AuthError', code: 'INVALID_CODE' });
    const activated = (await client.gql(activateTotpMutation, { code: await oathtool(secret, T0) })).data.activateTotp;
    expect(activated.__typename).toBe('ActivateTotpPayload');
    expect(activated.authenticator.__typename).toBe('TotpAuthenticator');
    expect(activated.recoveryCodes).toHaveLength(10);
    expect(activated.sessionToken).toEqual(expect.any(String));
    for (const code of activated.recoveryCodes) clearTexts.add(code), clearTexts.add(code.replace(/-/g, ''));
    const me = (await client.gql(meQuery)).data.me;
    expect(me.authenticators.map((a: { __typename: string }) => a.__typename).sort()).toEqual(['RecoveryCodesAuthenticator', 'TotpAuthenticator']);
    expect(await types(me.id)).toEqual(['TotpEnrollmentStarted', 'TotpActivationRejected', 'TotpActivated', 'RecoveryCodesGenerated']);

    server.clock.set(T0 + 30_000);
    const pending = await pendingLogin(server, 'qr@example.com');
    // A pending login grants nothing else.
    expect((await pending.gql(meQuery)).data.me).toBeNull();
    expect((await pending.gql(setupTotpMutation)).data.setupTotp.code).toBe('NOT_AUTHENTICATED');
    expect((await pending.gql(mfaReauthenticateMutation, { code: await oathtool(secret, T0 + 30_000) })).data.mfaReauthenticate.code).toBe('NOT_AUTHENTICATED');
    const done = (await pending.gql(authenticateMfaMutation, { code: await oathtool(secret, T0 + 30_000) })).data.authenticateMfa;
    expect(done.__typename).toBe('AuthPayload');
    expect(done.authState.isAuthenticated).toBe(true);
    expect(done.authState.session.aal).toBe(2);
    expect(done.authState.session.methods.map((m: { method: string }) => m.method)).toEqual(['password', 'totp']);
    const after = (await pending.gql(meQuery)).data.me;
    expect(after.authenticators.find((a: { __typename: string }) => a.__typename === 'TotpAuthenticator').lastUsedAt).toBe(new Date(T0 + 30_000).toISOString());
    // The pending token is spent: the client now holds the session token; a browser gets the cookie too.
    expect(pending.token).toBe(done.sessionToken);
  });

  it('refuses the same code twice and an earlier step after a later one (CODE_REPLAYED), recording each', async () => {
    server.clock.set(T0 + 10 * 60_000);
    const user = await userWithTotp(server, 'replay@example.com');
    const now = T0 + 10 * 60_000 + 60_000;
    server.clock.set(now);
    const code = await codeAt(user.secret, now);
    const first = await pendingLogin(server, user.email);
    expect((await first.gql(authenticateMfaMutation, { code })).data.authenticateMfa.__typename).toBe('AuthPayload');
    const second = await pendingLogin(server, user.email);
    expect((await second.gql(authenticateMfaMutation, { code })).data.authenticateMfa).toMatchObject({ code: 'CODE_REPLAYED' });
    // The previous step's code is inside the ±1 window but before the accepted step.
    const earlier = await codeAt(user.secret, now - 30_000);
    expect((await second.gql(authenticateMfaMutation, { code: earlier })).data.authenticateMfa).toMatchObject({ code: 'CODE_REPLAYED' });
    const events = await server.app.store.readStream(`authenticators-${user.userId}`);
    expect(events.filter((e) => e.type === 'TotpCodeAccepted')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'TotpCodeRejected').map((e) => e.data.reason)).toEqual(['CODE_REPLAYED', 'CODE_REPLAYED']);
    const login = await server.app.db.query<{ type: string }>(`select type from events where stream_id like 'login-%' and type = 'MfaFailed' and data->>'userId' = $1`, [user.userId]);
    expect(login).toHaveLength(2);
  });

  it('accepts t±1 and refuses t±2 at the 29.999 s / 30.000 s boundaries', async () => {
    const base = T0 + 3600_000;
    server.clock.set(base);
    const user = await userWithTotp(server, 'window@example.com');
    // Each check uses a later step than the last success, so replay protection does not interfere.
    const check = async (clockMs: number, codeMs: number): Promise<string> => {
      server.clock.set(clockMs);
      const client = await pendingLogin(server, user.email);
      const res = await client.gql(authenticateMfaMutation, { code: await codeAt(user.secret, codeMs) });
      return res.data.authenticateMfa.__typename === 'AuthPayload' ? 'accepted' : res.data.authenticateMfa.code;
    };
    // Server at step s = base/30 + 10, at its last millisecond (29.999 s into the step) and at its first (30.000 s).
    const s = base + 10 * 30_000;
    expect(await check(s + 29_999, s - 60_000)).toBe('INVALID_CODE'); // t-2
    expect(await check(s + 29_999, s - 30_000)).toBe('accepted'); // t-1
    expect(await check(s + 29_999, s)).toBe('accepted'); // t
    expect(await check(s + 29_999, s + 30_000)).toBe('accepted'); // t+1
    expect(await check(s + 29_999, s + 90_000)).toBe('INVALID_CODE'); // t+2 (relative to step s+1 it is t+3; see below)
    // At 30.000 s the server is in step s+1: the code of s+3 is t+2 and refused, s+2 is t+1 and accepted.
    expect(await check(s + 30_000, s + 90_000)).toBe('INVALID_CODE');
    expect(await check(s + 30_000, s + 60_000)).toBe('accepted');
    // And s (now t-1 relative to s+1) would be in the window, but it is before the accepted s+2: a replay.
    expect(await check(s + 30_000, s)).toBe('CODE_REPLAYED');
  });

  it('answers bad codes with VALIDATION_FAILED or INVALID_CODE, never a 500, and counts each against the budget', async () => {
    server.clock.set(T0 + 7200_000);
    const user = await userWithTotp(server, 'bad@example.com');
    server.clock.advance(30_000);
    const bad = ['', '12345', '1234567', 'abcdef', '１２３４５６', 'x'.repeat(32 * 1024), '12\u000034'];
    const client = await pendingLogin(server, user.email);
    const consumed: string[] = [];
    const original = server.app.attempts.consume.bind(server.app.attempts);
    server.app.attempts.consume = async (key, clientAddress) => {
      consumed.push(key);
      return original(key, clientAddress);
    };
    try {
      for (const code of bad) {
        // Past the lockout's back-off (capped at 60 s) after five failures, so each code is still evaluated.
        server.clock.advance(61_000);
        const res = await client.gql(authenticateMfaMutation, { code });
        expect(res.status).not.toBe(500);
        expect(['VALIDATION_FAILED', 'INVALID_CODE']).toContain(res.data.authenticateMfa.code);
      }
    } finally {
      server.app.attempts.consume = original;
    }
    expect(consumed).toEqual(bad.map(() => `user:${user.userId}:untrusted`)); // a pending login from a device the account does not know yet
    // A 1 MB code never reaches a resolver: the body limit answers 413 before anything is parsed, and nothing is written.
    const before = (await server.app.store.readStream(`authenticators-${user.userId}`)).length;
    const huge = await client.post(JSON.stringify({ query: authenticateMfaMutation, variables: { code: 'x'.repeat(1024 * 1024) } }), { authorization: `Bearer ${client.token}` });
    expect(huge.status).toBe(413);
    expect((await server.app.store.readStream(`authenticators-${user.userId}`)).length).toBe(before);
    // Those within the input limits are recorded as rejections.
    const rejected = (await server.app.store.readStream(`authenticators-${user.userId}`)).filter((e) => e.type.endsWith('Rejected') && e.type !== 'TotpActivationRejected');
    expect(rejected.length).toBe(5);
  });

  it('expires a pending login after 10 minutes (FLOW_EXPIRED)', async () => {
    server.clock.set(T0 + 3 * 3600_000);
    const user = await userWithTotp(server, 'expire@example.com');
    server.clock.advance(30_000);
    const client = await pendingLogin(server, user.email);
    server.clock.advance(10 * 60_000);
    const res = await client.gql(authenticateMfaMutation, { code: await codeAt(user.secret, server.clock.now().getTime()) });
    expect(res.data.authenticateMfa.code).toBe('FLOW_EXPIRED');
    expect((await client.gql(authenticateMfaMutation, { code: '123456' })).data.authenticateMfa.code).toMatch(/FLOW_EXPIRED|FLOW_NOT_PENDING|NOT_AUTHENTICATED/);
  });

  it('logs in with a recovery code once (any case, no dashes), steps up with TOTP, regenerates and deactivates with reauthentication', async () => {
    server.clock.set(T0 + 4 * 3600_000);
    const user = await userWithTotp(server, 'manage@example.com');
    for (const code of user.recoveryCodes) clearTexts.add(code), clearTexts.add(code.replace(/-/g, ''));
    const code = user.recoveryCodes[0]!;
    const pending = await pendingLogin(server, user.email);
    const done = (await pending.gql(authenticateMfaMutation, { code: code.toUpperCase().replace(/-/g, ' ') })).data.authenticateMfa;
    expect(done.authState.session).toMatchObject({ aal: 2, methods: [{ method: 'password' }, { method: 'recovery_code' }] });
    expect((await (await pendingLogin(server, user.email)).gql(authenticateMfaMutation, { code })).data.authenticateMfa.code).toBe('CODE_REPLAYED');
    let me = (await pending.gql(meQuery)).data.me;
    expect(me.authenticators.find((a: { __typename: string }) => a.__typename === 'RecoveryCodesAuthenticator')).toMatchObject({ totalCodeCount: 10, unusedCodeCount: 9 });

    // recoveryCodes shows the 9 unused to the fresh session, and not after the reauthentication window.
    const shown = (await pending.gql(`{ recoveryCodes { __typename ... on RecoveryCodesPayload { codes } ... on Error { code } } }`)).data.recoveryCodes;
    expect(shown.codes).toEqual(user.recoveryCodes.slice(1));
    server.clock.advance(10 * 60_000);
    expect((await pending.gql(`{ recoveryCodes { __typename ... on Error { code } } }`)).data.recoveryCodes.code).toBe('REAUTHENTICATION_REQUIRED');
    expect((await pending.gql(`mutation { deactivateTotp { __typename ... on Error { code } } }`)).data.deactivateTotp.code).toBe('REAUTHENTICATION_REQUIRED');
    expect((await pending.gql(`mutation { regenerateRecoveryCodes { __typename ... on Error { code } } }`)).data.regenerateRecoveryCodes.code).toBe('REAUTHENTICATION_REQUIRED');

    // Step-up with TOTP rotates the token.
    const before = pending.token;
    const stepUp = (await pending.gql(mfaReauthenticateMutation, { code: await codeAt(user.secret, server.clock.now().getTime()) })).data.mfaReauthenticate;
    expect(stepUp.__typename).toBe('AuthPayload');
    expect(stepUp.sessionToken).not.toBe(before);
    expect((await server.appClient(before).gql(meQuery)).data.me).toBeNull();

    const regenerated = (await pending.gql(`mutation { regenerateRecoveryCodes { __typename ... on RecoveryCodesPayload { codes } ... on Error { code } } }`)).data.regenerateRecoveryCodes;
    expect(regenerated.codes).toHaveLength(10);
    for (const c of regenerated.codes) clearTexts.add(c), clearTexts.add(c.replace(/-/g, ''));
    me = (await pending.gql(meQuery)).data.me;
    expect(me.authenticators.find((a: { __typename: string }) => a.__typename === 'RecoveryCodesAuthenticator')).toMatchObject({ totalCodeCount: 10, unusedCodeCount: 10 });
    // An old, unused code no longer works.
    expect((await pending.gql(mfaReauthenticateMutation, { code: user.recoveryCodes[1] })).data.mfaReauthenticate.code).toBe('INVALID_CODE');
    expect((await pending.gql(mfaReauthenticateMutation, { code: regenerated.codes[0] })).data.mfaReauthenticate.__typename).toBe('AuthPayload');

    const deactivated = (await pending.gql(`mutation { deactivateTotp { __typename ... on DeactivateTotpPayload { authenticators { __typename } } ... on Error { code } } }`)).data.deactivateTotp;
    expect(deactivated.__typename).toBe('DeactivateTotpPayload');
    // The last second factor is gone, and the recovery codes that backed it up went with it.
    expect((await pending.gql(meQuery)).data.me.authenticators.map((a: { __typename: string }) => a.__typename)).toEqual([]);
    expect((await types(user.userId)).slice(-1)).toEqual(['TotpDeactivated']);
  });

  it("keeps an admin's last factor (LAST_FACTOR_REQUIRED), and rotates an enroll-only admin session to AAL2 on activation", async () => {
    server.clock.set(T0 + 5 * 3600_000);
    const admin = await signedUpUser(server, 'admin@example.com', PASSWORD);
    const adminId = (await admin.gql(meQuery)).data.me.id;
    await grantRole(server.app, adminId, 'admin', system);
    server.clock.advance(8 * 86400_000); // past the grace period: logins are enroll-only
    const enrollOnly = server.appClient();
    const login = await enrollOnly.gql(`mutation { login(input: { email: "admin@example.com", password: "${PASSWORD}" }) { __typename ... on AuthPayload { sessionToken authState { isAuthenticated flows { id } } } } }`);
    expect(login.data.login.authState).toMatchObject({ isAuthenticated: false, flows: [{ id: 'MFA_ENROLL_REQUIRED' }] });
    expect((await enrollOnly.gql(meQuery)).data.me).toBeNull();
    const setup = (await enrollOnly.gql(setupTotpMutation)).data.setupTotp;
    expect(setup.__typename, JSON.stringify(setup)).toBe("TotpSetup");
    const secret = setup.secret as string;
    clearTexts.add(secret);
    const activated = (await enrollOnly.gql(activateTotpMutation, { code: await codeAt(secret, server.clock.now().getTime()) })).data.activateTotp;
    expect(activated.sessionToken).toEqual(expect.any(String));
    for (const c of activated.recoveryCodes) clearTexts.add(c), clearTexts.add(c.replace(/-/g, ''));
    const state = (await enrollOnly.gql(`{ authState { isAuthenticated session { aal } } }`)).data.authState;
    expect(state).toEqual({ isAuthenticated: true, session: { aal: 2 } });
    const refused = (await enrollOnly.gql(`mutation { deactivateTotp { __typename ... on Error { code } } }`)).data.deactivateTotp;
    expect(refused.code).toBe('LAST_FACTOR_REQUIRED');
    expect((await enrollOnly.gql(meQuery)).data.me.authenticators.map((a: { __typename: string }) => a.__typename)).toContain('TotpAuthenticator');
  });

  it('records every TOTP and recovery event in the audit view without a secret or code', async () => {
    const rows = await server.app.db.query<{ type: string; summary: Record<string, unknown> }>(
      `select type, summary from proj.audit_events where type like 'Totp%' or type like 'Recovery%'`,
    );
    const seen = new Set(rows.map((r) => r.type));
    for (const type of ['TotpEnrollmentStarted', 'TotpActivated', 'TotpActivationRejected', 'TotpCodeAccepted', 'TotpCodeRejected', 'TotpDeactivated', 'RecoveryCodesGenerated', 'RecoveryCodeUsed', 'RecoveryCodeRejected']) {
      expect(seen, type).toContain(type);
    }
    for (const row of rows) expect(Object.keys(row.summary).join(',')).not.toMatch(/secret|ciphertext|hash|codes/i);
  });

  it('leaves no TOTP secret, recovery code or password in clear in any table', async () => {
    const columns = await server.app.db.query<{ table_schema: string; table_name: string; column_name: string }>(
      `select c.table_schema, c.table_name, c.column_name from information_schema.columns c
         join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
        where c.table_schema not in ('pg_catalog', 'information_schema') and c.data_type in ('text', 'jsonb', 'json', 'character varying', 'bytea')`,
    );
    expect(columns.some((c) => c.table_schema === 'proj')).toBe(true);
    let dump = '';
    for (const c of columns) {
      const rows = await server.app.db.query<{ v: string | null }>(`select "${c.column_name}"::text as v from "${c.table_schema}"."${c.table_name}"`);
      dump += rows.map((r) => r.v ?? '').join('\n');
    }
    expect(dump.length).toBeGreaterThan(10_000);
    expect(clearTexts.size).toBeGreaterThan(40);
    const lower = dump.toLowerCase();
    for (const secret of clearTexts) expect(lower.includes(secret.toLowerCase()), `found ${secret.slice(0, 4)}… in the database`).toBe(false);
  });
});
