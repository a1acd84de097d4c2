// The pure deciders of login, session and user: given events, when a command, then events (or an error code).
import { describe, expect, it } from 'vitest';
import { decideLogin } from '../../../src/domain/login/decide.js';
import { evolveLogin, initialLoginState } from '../../../src/domain/login/state.js';
import type { LoginCommand } from '../../../src/domain/login/commands.js';
import type { LoginEvent } from '../../../src/domain/login/events.js';
import { decideSession } from '../../../src/domain/session/decide.js';
import { evolveSession, initialSessionState } from '../../../src/domain/session/state.js';
import type { SessionCommand } from '../../../src/domain/session/commands.js';
import type { SessionEvent } from '../../../src/domain/session/events.js';
import { decideUser } from '../../../src/domain/user/decide.js';
import { evolveUser, initialUserState } from '../../../src/domain/user/state.js';
import type { UserEvent } from '../../../src/domain/user/events.js';
import type { DeviceCommand } from '../../../src/domain/device/commands.js';
import { decideDevice } from '../../../src/domain/device/decide.js';
import type { DeviceEvent } from '../../../src/domain/device/events.js';
import { evolveDevice, initialDeviceState, isTrusted } from '../../../src/domain/device/state.js';

const T0 = '2026-01-01T00:00:00.000Z';
const at = (min: number) => new Date(Date.parse(T0) + min * 60_000).toISOString();
const start = (o: Partial<Extract<LoginCommand, { type: 'StartLogin' }>['data']> = {}): LoginCommand => ({
  type: 'StartLogin', data: { flowId: 'f', userId: 'u', method: 'password', passwordValid: true, factorTypes: [], pendingTokenHash: 'h', trustedDeviceId: null, sessionId: 's', aal: 1, now: T0, expiresAt: at(10), ...o },
});
const mfa = (accepted: boolean, now = at(1)): LoginCommand => ({ type: 'AuthenticateMfa', data: { method: 'totp', outcome: accepted ? { accepted: true } : { accepted: false, reason: 'INVALID_CODE' }, sessionId: 's2', now } });
const abandon: LoginCommand = { type: 'AbandonLogin', data: { now: at(2) } };
const types = (events: { type: string }[]) => events.map((e) => e.type);
const login = (given: LoginCommand[], when: LoginCommand) => decideLogin(when, given.reduce((s, c) => decideLogin(c, s).reduce(evolveLogin, s), initialLoginState));
const code = (fn: () => unknown) => { try { fn(); return null; } catch (e) { return (e as { code?: string }).code; } };

describe('login decider', () => {
  it.each<[string, LoginCommand[], LoginCommand, string[] | string]>([
    ['no flow, right password, no factor → completed at AAL1', [], start(), ['LoginStarted', 'PasswordVerified', 'LoginCompleted']],
    ['no flow, right password, a factor → MFA required', [], start({ factorTypes: ['TOTP'] }), ['LoginStarted', 'PasswordVerified', 'MfaRequired']],
    ['no flow, right password, a factor, a trusted device → completed without the MFA step', [], start({ factorTypes: ['TOTP'], trustedDeviceId: 'd1' }), ['LoginStarted', 'PasswordVerified', 'TrustedDeviceAccepted', 'LoginCompleted']],
    ['no flow, wrong password on a trusted device → rejected', [], start({ passwordValid: false, factorTypes: ['TOTP'], trustedDeviceId: 'd1' }), ['LoginStarted', 'PasswordRejected']],
    ['no flow, wrong password → rejected', [], start({ passwordValid: false }), ['LoginStarted', 'PasswordRejected']],
    ['no flow, unknown user → rejected', [], start({ userId: null, passwordValid: true }), ['LoginStarted', 'PasswordRejected']],
    ['started flow, start again → ALREADY_EXISTS', [start()], start(), 'ALREADY_EXISTS'],
    ['pending, right code → succeeded + completed', [start({ factorTypes: ['TOTP'] })], mfa(true), ['MfaSucceeded', 'LoginCompleted']],
    ['pending, wrong code → MfaFailed, still pending', [start({ factorTypes: ['TOTP'] })], mfa(false), ['MfaFailed']],
    ['pending after a failure, right code → completed', [start({ factorTypes: ['TOTP'] }), mfa(false)], mfa(true), ['MfaSucceeded', 'LoginCompleted']],
    ['pending, at expiry → LoginExpired', [start({ factorTypes: ['TOTP'] })], mfa(true, at(10)), ['LoginExpired']],
    ['expired, any code → FLOW_NOT_PENDING', [start({ factorTypes: ['TOTP'] }), mfa(true, at(11))], mfa(true), 'FLOW_NOT_PENDING'],
    ['completed, a code → FLOW_NOT_PENDING', [start({ factorTypes: ['TOTP'] }), mfa(true)], mfa(true), 'FLOW_NOT_PENDING'],
    ['no flow, a code → FLOW_NOT_PENDING', [], mfa(true), 'FLOW_NOT_PENDING'],
    ['completed without MFA, a code → FLOW_NOT_PENDING', [start()], mfa(true), 'FLOW_NOT_PENDING'],
    ['rejected, a code → FLOW_NOT_PENDING', [start({ passwordValid: false })], mfa(true), 'FLOW_NOT_PENDING'],
    ['pending, abandon → LoginAbandoned', [start({ factorTypes: ['TOTP'] })], abandon, ['LoginAbandoned']],
    ['abandoned, a code → FLOW_NOT_PENDING', [start({ factorTypes: ['TOTP'] }), abandon], mfa(true), 'FLOW_NOT_PENDING'],
    ['abandoned, abandon → nothing', [start({ factorTypes: ['TOTP'] }), abandon], abandon, []],
    ['completed, abandon → nothing', [start()], abandon, []],
  ])('%s', (_name, given, when, then) => {
    if (typeof then === 'string') expect(code(() => login(given, when))).toBe(then);
    else expect(types(login(given, when))).toEqual(then);
  });

  it('a completed MFA login is AAL2 and carries both methods', () => {
    const events = [...decideLogin(start({ factorTypes: ['TOTP'] }), initialLoginState)];
    const pending = (events as LoginEvent[]).reduce(evolveLogin, initialLoginState);
    const done = decideLogin(mfa(true), pending);
    expect(done.at(-1)).toMatchObject({ type: 'LoginCompleted', data: { aal: 2, sessionId: 's2' } });
    expect(done.reduce(evolveLogin, pending).methods.map((m) => m.method)).toEqual(['password', 'totp']);
  });
});

const startSession: SessionCommand = { type: 'StartSession', data: { sessionId: 's', userId: 'u', tokenHash: 'h', aal: 1, methods: [], ip: 'ip', userAgent: 'ua', deviceId: null, enrollOnly: false, flowId: null, mfaTrustOffered: false, now: T0 } };
const activity = (min: number): SessionCommand => ({ type: 'RecordSessionActivity', data: { ip: 'ip', now: at(min), intervalSeconds: 300 } });
const revoke: SessionCommand = { type: 'RevokeSession', data: { reason: 'logout', now: at(1) } };
const expire: SessionCommand = { type: 'ExpireSession', data: { reason: 'idle', now: at(60) } };
const reauth: SessionCommand = { type: 'Reauthenticate', data: { method: 'reauthentication', tokenHash: 'h2', aal: 1, now: at(3) } };
const session = (given: SessionCommand[], when: SessionCommand) =>
  decideSession(when, given.reduce((s, c) => (decideSession(c, s) as SessionEvent[]).reduce(evolveSession, s), initialSessionState));

describe('session decider', () => {
  it.each<[string, SessionCommand[], SessionCommand, string[] | string]>([
    ['none, start → SessionStarted', [], startSession, ['SessionStarted']],
    ['active, start → ALREADY_EXISTS', [startSession], startSession, 'ALREADY_EXISTS'],
    ['active, activity within 5 min → nothing', [startSession], activity(4), []],
    ['active, activity at 5 min → recorded', [startSession], activity(5), ['SessionActivityRecorded']],
    ['recorded at 5, activity at 9 → nothing', [startSession, activity(5)], activity(9), []],
    ['recorded at 5, activity at 10 → recorded', [startSession, activity(5)], activity(10), ['SessionActivityRecorded']],
    ['active, reauthenticate → reauthenticated', [startSession], reauth, ['SessionReauthenticated']],
    ['active, revoke → revoked', [startSession], revoke, ['SessionRevoked']],
    ['revoked, revoke → nothing', [startSession, revoke], revoke, []],
    ['revoked, expire → nothing', [startSession, revoke], expire, []],
    ['expired, revoke → nothing', [startSession, expire], revoke, []],
    ['revoked, activity → nothing', [startSession, revoke], activity(30), []],
    ['revoked, reauthenticate → NOT_AUTHENTICATED', [startSession, revoke], reauth, 'NOT_AUTHENTICATED'],
    ['none, reauthenticate → NOT_AUTHENTICATED', [], reauth, 'NOT_AUTHENTICATED'],
  ])('%s', (_name, given, when, then) => {
    if (typeof then === 'string') expect(code(() => session(given, when))).toBe(then);
    else expect(types(session(given, when))).toEqual(then);
  });
});

describe('user decider', () => {
  const registered: UserEvent = { type: 'UserRegistered', data: { userId: 'u', email: 'a@example.com', passwordHash: 'p', at: T0 } };
  const state = (...events: UserEvent[]) => events.reduce(evolveUser, initialUserState);
  const now = T0;
  it.each<[string, UserEvent[], Parameters<typeof decideUser>[0], string[] | string]>([
    ['none, sign up → registered', [], { type: 'SignUp', data: { userId: 'u', email: 'a@example.com', passwordHash: 'p', now } }, ['UserRegistered']],
    ['exists, sign up → ALREADY_EXISTS', [registered], { type: 'SignUp', data: { userId: 'u', email: 'a@example.com', passwordHash: 'p', now } }, 'ALREADY_EXISTS'],
    ['none, change password → NOT_FOUND', [], { type: 'ChangePassword', data: { passwordHash: 'q', now } }, 'NOT_FOUND'],
    ['exists, same email → nothing', [registered], { type: 'ChangeEmail', data: { email: 'a@example.com', now } }, []],
    ['exists, grant admin → RoleGranted', [registered], { type: 'GrantRole', data: { role: 'admin', now } }, ['RoleGranted']],
    ['admin, grant admin → nothing', [registered, { type: 'RoleGranted', data: { userId: 'u', role: 'admin', at: T0 } }], { type: 'GrantRole', data: { role: 'admin', now } }, []],
    ['admin, revoke admin → RoleRevoked', [registered, { type: 'RoleGranted', data: { userId: 'u', role: 'admin', at: T0 } }], { type: 'RevokeRole', data: { role: 'admin', now } }, ['RoleRevoked']],
    ['exists without the role, revoke it → nothing', [registered], { type: 'RevokeRole', data: { role: 'admin', now } }, []],
    ['exists, unknown role → VALIDATION_FAILED', [registered], { type: 'GrantRole', data: { role: 'root', now } }, 'VALIDATION_FAILED'],
    ['deleted, change email → NOT_FOUND', [registered, { type: 'UserDeleted', data: { userId: 'u', at: T0 } }], { type: 'ChangeEmail', data: { email: 'b@example.com', now } }, 'NOT_FOUND'],
  ])('%s', (_name, given, when, then) => {
    if (typeof then === 'string') expect(code(() => decideUser(when, state(...given)))).toBe(then);
    else expect(types(decideUser(when, state(...given)))).toEqual(then);
  });

  it('a rehash is a PasswordChanged with reason rehashed', () => {
    expect(decideUser({ type: 'UpgradePasswordHash', data: { passwordHash: 'q', now } }, state(registered))[0]).toMatchObject({ type: 'PasswordChanged', data: { reason: 'rehashed' } });
  });
});

describe('device decider', () => {
  const seen: DeviceEvent = { type: 'DeviceSeen', data: { deviceId: 'd', userId: 'u', name: 'Chrome on Linux', at: T0 } };
  const state = (...events: DeviceEvent[]) => events.reduce(evolveDevice, initialDeviceState);
  it.each<[string, DeviceEvent[], DeviceCommand, string[] | string]>([
    ['unknown to the account, seen → DeviceSeen', [], { type: 'SeeDevice', data: { deviceId: 'd', userId: 'u', name: 'x', now: T0 } }, ['DeviceSeen']],
    ['known, seen again (another user agent) → nothing', [seen], { type: 'SeeDevice', data: { deviceId: 'd', userId: 'u', name: 'y', now: T0 } }, []],
    ['known to another account only, seen → DeviceSeen for this one', [seen], { type: 'SeeDevice', data: { deviceId: 'd', userId: 'v', name: 'x', now: T0 } }, ['DeviceSeen']],
    ['unknown, trust → NOT_FOUND', [], { type: 'AnswerDeviceTrust', data: { deviceId: 'd', userId: 'u', sessionId: 's', trust: true, until: at(60), now: T0 } }, 'NOT_FOUND'],
    ['known, trust → DeviceTrusted', [seen], { type: 'AnswerDeviceTrust', data: { deviceId: 'd', userId: 'u', sessionId: 's', trust: true, until: at(60), now: T0 } }, ['DeviceTrusted']],
    ['known, no → DeviceTrustDeclined', [seen], { type: 'AnswerDeviceTrust', data: { deviceId: 'd', userId: 'u', sessionId: 's', trust: false, until: at(60), now: T0 } }, ['DeviceTrustDeclined']],
    ['not trusted, revoke → nothing', [seen], { type: 'RevokeDeviceTrust', data: { deviceId: 'd', userId: 'u', reason: 'user', now: T0 } }, []],
    ['trusted, revoke → DeviceTrustRevoked', [seen, { type: 'DeviceTrusted', data: { deviceId: 'd', userId: 'u', sessionId: 's', until: at(60), at: T0 } }], { type: 'RevokeDeviceTrust', data: { deviceId: 'd', userId: 'u', reason: 'password_changed', now: T0 } }, ['DeviceTrustRevoked']],
    ['known, forget → DeviceForgotten', [seen], { type: 'ForgetDevice', data: { deviceId: 'd', userId: 'u', now: T0 } }, ['DeviceForgotten']],
  ])('%s', (_name, given, when, then) => {
    if (typeof then === 'string') expect(code(() => decideDevice(when, state(...given)))).toBe(then);
    else expect(types(decideDevice(when, state(...given)))).toEqual(then);
  });

  it('a trust runs out at its end, and a forgotten device is unknown again', () => {
    const trusted = state(seen, { type: 'DeviceTrusted', data: { deviceId: 'd', userId: 'u', sessionId: 's', until: at(60), at: T0 } });
    expect(isTrusted(trusted, 'u', new Date(at(59)))).toBe(true);
    expect(isTrusted(trusted, 'u', new Date(at(60)))).toBe(false);
    expect(isTrusted(trusted, 'v', new Date(at(1)))).toBe(false);
    expect(state(seen, { type: 'DeviceForgotten', data: { deviceId: 'd', userId: 'u', reason: 'hard_limit', at: T0 } }).accounts).toEqual({});
  });
});
