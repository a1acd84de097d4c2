// packages/client against the real server over HTTP, in Node, in token mode (what an app does): every operation, each
// answering a Result (expected failures are data, never throws) and feeding the pending-flow machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTesseraClient, type TesseraClient } from '../../packages/client/src/index.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../fixtures/softAuthenticator.js';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';
import { oathtool } from '../integration/totp/helpers.js';
import { fastArgon } from '../integration/webauthn/helpers.js';

const PASSWORD = 'correct horse battery staple';

describe('@tessera/client in Node (token mode)', () => {
  let server: TestServer;
  const client = (): TesseraClient => createTesseraClient({ url: `${server.url}/graphql`, mode: 'token' });
  const key = (): SoftAuthenticator => createSoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const nextStep = (): void => server.clock.advance(30_000);
  const totpCode = (secret: string): Promise<string> => oathtool(secret, server.clock.now().getTime());

  beforeAll(async () => {
    // Email changes at once (none): the verified change has its own test in the recovery suite.
    server = await startTestServer({ env: { ...fastArgon, WEBAUTHN_RP_ID: 'localhost', PASSKEY_SIGNUP_ENABLED: 'true', ACCOUNT_EMAIL_VERIFICATION: 'none' } });
  });
  afterAll(async () => server?.close());

  it('config, authState, signup, me, logout; a wrong password is a result, not an exception', async () => {
    const c = client();
    const config = await c.config();
    expect(config.ok && config.data.mfa.supportedTypes).toEqual(['TOTP', 'WEBAUTHN', 'RECOVERY_CODES']);
    expect((await c.authState()).ok).toBe(true);
    expect(c.getStatus().kind).toBe('anonymous');

    const signedUp = await c.signup('client@example.com', PASSWORD);
    expect(signedUp.ok && signedUp.data.authState.isAuthenticated).toBe(true);
    expect(c.token).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(c.getStatus().kind).toBe('authenticated');
    const me = await c.me();
    expect(me.ok && me.data.email).toBe('client@example.com');
    expect(me.ok && me.data.sessions).toHaveLength(1);

    expect((await c.logout()).ok).toBe(true);
    expect(c.token).toBeNull();
    expect(c.getStatus().kind).toBe('anonymous');
    expect(await c.me()).toMatchObject({ ok: false, error: { code: 'NOT_AUTHENTICATED' } });

    const wrong = await c.login('client@example.com', 'not the password at all');
    expect(wrong).toMatchObject({ ok: false, error: { code: 'INVALID_CREDENTIALS' } });
    const duplicate = await c.signup('client@example.com', PASSWORD);
    expect(duplicate.ok).toBe(false);
  });

  it('TOTP: setupTotp, activateTotp, login → mfa_authenticate → authenticateMfa; reauthentication; recovery codes; deactivateTotp', async () => {
    const c = client();
    await c.signup('totp@example.com', PASSWORD);
    const setup = await c.setupTotp();
    if (!setup.ok) throw new Error(setup.error.message);
    expect(setup.data.totpUrl).toMatch(/^otpauth:\/\/totp\//);
    expect(setup.data.qrCodeSvg).toMatch(/^<svg/);
    expect(await c.activateTotp('000000')).toMatchObject({ ok: false, error: { code: 'INVALID_CODE' } });
    const activated = await c.activateTotp(await totpCode(setup.data.secret));
    expect(activated.ok && activated.data.recoveryCodes).toHaveLength(10);
    const recoveryCodes = activated.ok ? activated.data.recoveryCodes! : [];
    await c.logout();

    const login = await c.login('totp@example.com', PASSWORD);
    expect(login.ok).toBe(true);
    expect(c.getPendingFlow()).toMatchObject({ id: 'mfa_authenticate', types: expect.arrayContaining(['TOTP', 'RECOVERY_CODES']) });
    nextStep();
    const mfa = await c.authenticateMfa(await totpCode(setup.data.secret));
    expect(mfa.ok && mfa.data.authState.session?.aal).toBe(2);
    expect(c.getPendingFlow()).toBeNull();

    // Ten minutes later the login is no longer recent: the server asks, the machine says reauthenticate.
    server.clock.advance(10 * 60_000);
    expect(await c.recoveryCodes()).toMatchObject({ ok: false, error: { code: 'REAUTHENTICATION_REQUIRED' } });
    expect(c.getPendingFlow()).toMatchObject({ id: 'reauthenticate', types: expect.arrayContaining(['TOTP']) });
    expect(await c.reauthenticate('wrong password here')).toMatchObject({ ok: false, error: { code: 'INVALID_CREDENTIALS' } });
    expect((await c.reauthenticate(PASSWORD)).ok).toBe(true);
    expect(c.getPendingFlow()).toBeNull();
    const viewed = await c.recoveryCodes();
    expect(viewed.ok && viewed.data.codes).toEqual(recoveryCodes);
    const regenerated = await c.regenerateRecoveryCodes();
    expect(regenerated.ok && regenerated.data.codes).toHaveLength(10);
    expect(regenerated.ok && regenerated.data.codes).not.toEqual(recoveryCodes);

    server.clock.advance(10 * 60_000);
    expect(await c.mfaReauthenticate(await totpCode(setup.data.secret))).toMatchObject({ ok: true });
    const deactivated = await c.deactivateTotp();
    expect(deactivated.ok && deactivated.data.authenticators.map((a) => a.type)).not.toContain('TOTP');
  });

  it('a recovery code completes the MFA step', async () => {
    const c = client();
    await c.signup('recovery@example.com', PASSWORD);
    const setup = await c.setupTotp();
    const activated = await c.activateTotp(await totpCode(setup.ok ? setup.data.secret : ''));
    const code = activated.ok ? activated.data.recoveryCodes![0]! : '';
    await c.logout();
    await c.login('recovery@example.com', PASSWORD);
    const done = await c.authenticateMfa(code);
    expect(done.ok && done.data.authState.session?.methods.map((m) => m.method)).toEqual(['password', 'recovery_code']);
  });

  it('WebAuthn: register a passkey and a security key, rename, passkey login, key as second factor, remove', async () => {
    const c = client();
    const authenticator = key();
    const securityKey = key();
    await c.signup('keys@example.com', PASSWORD);
    const begun = await c.beginWebAuthnRegistration(true);
    if (!begun.ok) throw new Error(begun.error.message);
    const registered = await c.registerWebAuthn('Passkey', authenticator.register(begun.data.creationOptions as never));
    expect(registered.ok && registered.data.recoveryCodes).toHaveLength(10);
    const passkeyId = registered.ok && registered.data.authenticator.__typename === 'WebAuthnAuthenticator' ? registered.data.authenticator.id : '';
    const renamed = await c.renameWebAuthn(passkeyId, 'My laptop');
    expect(renamed.ok && renamed.data.authenticator.__typename === 'WebAuthnAuthenticator' && renamed.data.authenticator.name).toBe('My laptop');
    const second = await c.beginWebAuthnRegistration(false);
    const keyRegistered = await c.registerWebAuthn('Security key', securityKey.register((second.ok ? second.data.creationOptions : {}) as never));
    expect(keyRegistered.ok).toBe(true);
    await c.logout();

    const begunLogin = await c.beginWebAuthnAuthentication('PASSKEY_LOGIN');
    if (!begunLogin.ok) throw new Error(begunLogin.error.message);
    const passkeyLogin = await c.loginWithPasskey(authenticator.assert(begunLogin.data.requestOptions as never), begunLogin.data.ceremonyToken);
    expect(passkeyLogin.ok && passkeyLogin.data.authState.session?.methods.map((m) => m.method)).toEqual(['passkey']);
    await c.logout();

    await c.login('keys@example.com', PASSWORD);
    expect(c.getPendingFlow()?.types).toContain('WEBAUTHN');
    const mfa = await c.beginWebAuthnAuthentication('MFA');
    const asserted = await c.authenticateWebAuthn(securityKey.assert((mfa.ok ? mfa.data.requestOptions : {}) as never));
    expect(asserted.ok && asserted.data.authState.session?.aal).toBe(2);
    const removed = await c.removeWebAuthn([passkeyId]);
    expect(removed.ok && removed.data.authenticators.filter((a) => a.__typename === 'WebAuthnAuthenticator')).toHaveLength(1);
  });

  it('passkey signup: beginPasskeySignup and completePasskeySignup', async () => {
    const c = client();
    const authenticator = key();
    const begun = await c.beginPasskeySignup('passkey-only@example.com');
    if (!begun.ok) throw new Error(begun.error.message);
    const done = await c.completePasskeySignup(authenticator.register(begun.data.creationOptions as never), { ceremonyToken: begun.data.ceremonyToken, name: 'Phone' });
    expect(done.ok && done.data.authState.isAuthenticated).toBe(true);
    expect(c.getStatus().kind).toBe('authenticated');
  });

  it('sessions: one client revokes another, which finds itself signed out; changePassword, changeEmail, deleteAccount', async () => {
    const first = client();
    const second = client();
    await first.signup('sessions@example.com', PASSWORD);
    await second.login('sessions@example.com', PASSWORD);
    await second.authState();
    const me = await first.me();
    const other = me.ok ? me.data.sessions.find((s) => !s.isCurrent)! : undefined;
    const revoked = await first.revokeSessions([other!.id]);
    expect(revoked.ok && revoked.data.revokedIds).toEqual([other!.id]);
    expect(await second.me()).toMatchObject({ ok: false, error: { code: 'NOT_AUTHENTICATED' } });
    expect(second.getStatus().kind).toBe('anonymous');

    const changed = await first.changePassword(PASSWORD, 'an even better passphrase 2');
    expect(changed.ok && changed.data.endedSessionCount).toBe(0);
    const email = await first.changeEmail('renamed@example.com');
    expect(email.ok && email.data.email).toBe('renamed@example.com');
    expect((await first.deleteAccount()).ok).toBe(true);
    expect(first.getStatus().kind).toBe('anonymous');
    expect(await client().login('renamed@example.com', 'an even better passphrase 2')).toMatchObject({ ok: false, error: { code: 'INVALID_CREDENTIALS' } });
  });

  it('no server: NETWORK_ERROR as a result', async () => {
    const c = createTesseraClient({ url: `http://127.0.0.1:${await freePort()}/graphql`, mode: 'token' });
    expect(await c.login('a@example.com', PASSWORD)).toMatchObject({ ok: false, error: { code: 'NETWORK_ERROR' } });
  });
});

describe('@tessera/client in Node (token mode): devices and "trust this device"', () => {
  let server: TestServer;
  const totpCode = (secret: string): Promise<string> => oathtool(secret, server.clock.now().getTime());

  beforeAll(async () => {
    server = await startTestServer({ env: { ...fastArgon, MFA_TRUST_ENABLED: 'true' } });
  });
  afterAll(async () => server?.close());

  it('keeps the device token across logouts and sends it back; mfa_trust is pending but not blocking; trustDevice, me.devices, revokeDeviceTrust, signOutEverywhere', async () => {
    const deviceTokens: string[] = [];
    const c = createTesseraClient({ url: `${server.url}/graphql`, mode: 'token', onDeviceToken: (t) => deviceTokens.push(t) });
    expect(c.deviceToken).toBeNull();
    await c.signup('devices@example.com', PASSWORD);
    expect(c.deviceToken).toMatch(/\S{16,}/);
    const device = c.deviceToken;
    const setup = await c.setupTotp();
    if (!setup.ok) throw new Error(setup.error.message);
    expect((await c.activateTotp(await totpCode(setup.data.secret))).ok).toBe(true);
    await c.logout();
    expect(c.token).toBeNull();
    expect(c.deviceToken).toBe(device);

    await c.login('devices@example.com', PASSWORD);
    expect(c.getPendingFlow()?.id).toBe('mfa_authenticate');
    server.clock.advance(30_000);
    const mfa = await c.authenticateMfa(await totpCode(setup.data.secret));
    expect(mfa.ok && mfa.data.authState.flows.find((f) => f.id === 'MFA_TRUST')?.isPending).toBe(true);
    // Signed in, with the question pending beside it.
    expect(c.getStatus().kind).toBe('authenticated');
    expect(c.getPendingFlow()).toEqual({ id: 'mfa_trust', types: null, expiresAt: null });

    const before = await c.me();
    if (!before.ok) throw new Error(before.error.message);
    expect(before.data.devices).toHaveLength(1);
    const [mine] = before.data.devices;
    expect(mine).toMatchObject({ current: true, trusted: false, trustedUntil: null });
    expect(before.data.sessions.find((s) => s.isCurrent)?.device).toEqual({ id: mine!.id, name: mine!.name, trusted: false });

    expect(await c.trustDevice(true)).toEqual({ ok: true, data: { __typename: 'TrustDevicePayload', trusted: true } });
    expect(c.getPendingFlow()).toBeNull();
    const after = await c.me();
    const trusted = after.ok ? after.data.devices[0]! : undefined;
    expect(trusted?.trusted).toBe(true);
    expect(new Date(trusted!.trustedUntil!).getTime() - server.clock.now().getTime()).toBe(14 * 24 * 3600_000);
    expect(await c.trustDevice(true)).toMatchObject({ ok: false, error: { code: 'FLOW_NOT_PENDING' } });

    // The trusted device logs in with the password alone (AAL1, method trust); so does a new client given the saved token.
    await c.logout();
    const again = await c.login('devices@example.com', PASSWORD);
    expect(c.getPendingFlow()).toBeNull();
    expect(again.ok && again.data.authState.session?.aal).toBe(1);
    expect(again.ok && again.data.authState.session?.methods.map((m) => m.method)).toContain('trust');
    const restored = createTesseraClient({ url: `${server.url}/graphql`, mode: 'token', deviceToken: device });
    expect((await restored.login('devices@example.com', PASSWORD)).ok).toBe(true);
    expect(restored.getStatus().kind).toBe('authenticated');
    // Without it, another device: the MFA step.
    const stranger = createTesseraClient({ url: `${server.url}/graphql`, mode: 'token' });
    await stranger.login('devices@example.com', PASSWORD);
    expect(stranger.getPendingFlow()?.id).toBe('mfa_authenticate');
    expect(stranger.deviceToken).not.toBe(device);

    const revoked = await c.revokeDeviceTrust([mine!.id]);
    expect(revoked.ok && revoked.data.revokedIds).toEqual([mine!.id]);
    const listed = await c.me();
    expect(listed.ok && listed.data.devices.find((d) => d.id === mine!.id)?.trusted).toBe(false);
    await c.logout();
    await c.login('devices@example.com', PASSWORD);
    expect(c.getPendingFlow()?.id).toBe('mfa_authenticate');
    server.clock.advance(30_000);
    expect((await c.authenticateMfa(await totpCode(setup.data.secret))).ok).toBe(true);
    expect(c.getPendingFlow()?.id).toBe('mfa_trust');
    expect(await c.trustDevice(false)).toMatchObject({ ok: true, data: { trusted: false } });
    expect(c.getPendingFlow()).toBeNull();

    const everywhere = await c.signOutEverywhere();
    expect(everywhere.ok && everywhere.data.endedSessionCount).toBe(2); // this one and `restored`'s
    expect(c.token).toBeNull();
    expect(c.getStatus().kind).toBe('anonymous');
    expect(c.deviceToken).toBe(device);
    expect(await restored.me()).toMatchObject({ ok: false, error: { code: 'NOT_AUTHENTICATED' } });
    expect(deviceTokens).toEqual([device]);
  });
});
