// A scripted history on a fixed clock for the analytics tests: 50 users over 10 days (Monday 2 March 2026 to Wednesday
// 11 March, UTC), logins by every method, failures, a lockout, sessions starting, active and ending, factors enrolled
// and removed. The events are appended through the real event store (inline projections and the lockout reactor run),
// exactly as the use cases would write them; the expected numbers are written by hand in the tests.
import { randomUUID } from 'node:crypto';
import type { App } from '../../../src/app.js';
import type { Queryable } from '../../../src/db/index.js';
import type { EventMetadata } from '../../../src/eventstore/index.js';
import type { ManualClock } from '../../../src/domain/shared/clock.js';

export const day0 = Date.UTC(2026, 2, 2);
export const at = (day: number, hour: number, minute = 0): string => new Date(day0 + day * 86400_000 + hour * 3600_000 + minute * 60_000).toISOString();
export const userIdOf = (index: number): string => `u${String(index).padStart(2, '0')}`;
const address = '198.51.100.7';

export class Script {
  private readonly sessions = new Map<string, string>();
  /** The server's clock is moved to each step's time, so what the reactors write (a lockout) happens then too. */
  constructor(private readonly app: App, private readonly clock: ManualClock, private readonly metadata: EventMetadata = { ip: address, userAgent: 'scenario', actor: 'scenario' }) {}

  private async append(tx: Queryable, stream: string, when: string, events: Array<{ type: string; data: Record<string, unknown> }>, metadata?: EventMetadata): Promise<void> {
    this.clock.set(new Date(when));
    await this.app.store.append(stream, events, { expectedVersion: 'any', tx, now: new Date(when), metadata: metadata ?? this.metadata });
  }

  private sessionStarted(userId: string, methods: string[], when: string): { type: string; data: Record<string, unknown> } {
    const sessionId = randomUUID();
    this.sessions.set(userId, sessionId);
    return {
      type: 'SessionStarted',
      data: {
        sessionId, userId, tokenHash: randomUUID(), aal: methods.length > 1 && !methods.includes('trust') ? 2 : 1,
        methods: methods.map((method) => ({ method, at: when })), ip: address, userAgent: 'scenario', deviceId: null, enrollOnly: false, at: when,
      },
    };
  }

  private shared: Queryable | null = null;

  private tx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.shared ? fn(this.shared) : this.app.store.transaction(fn);
  }

  /** Every step of `fn` in one transaction: the projector then sees all of it in one batch (deterministic evidence). */
  async together(fn: () => Promise<void>): Promise<void> {
    await this.app.store.transaction(async (tx) => {
      this.shared = tx;
      try {
        await fn();
      } finally {
        this.shared = null;
      }
    });
  }

  lastSession(userId: string): string {
    return this.sessions.get(userId)!;
  }

  /** Signup: the account, its first session and its first device, in one transaction. */
  async signup(userId: string, when: string): Promise<void> {
    await this.tx(async (tx) => {
      await this.append(tx, `user-${userId}`, when, [{ type: 'UserRegistered', data: { userId, email: `${userId}@example.com`, passwordHash: 'argon2-hash', at: when } }]);
      const started = this.sessionStarted(userId, ['password'], when);
      await this.append(tx, `session-${started.data.sessionId}`, when, [started]);
      await this.append(tx, `device-d1${userId}`, when, [{ type: 'DeviceSeen', data: { deviceId: `d1${userId}`, userId, name: 'Firefox', at: when } }]);
    });
  }

  /** A completed login: `methods` as the session records them ('password', 'totp', …, 'passkey', 'trust'). */
  async login(userId: string, methods: string[], when: string, options: { newDevice?: boolean; recoveryCode?: boolean } = {}): Promise<string> {
    const flowId = randomUUID();
    await this.tx(async (tx) => {
      const flow: Array<{ type: string; data: Record<string, unknown> }> = [
        { type: 'LoginStarted', data: { flowId, userId, method: methods[0] === 'passkey' ? 'passkey' : 'password', at: when } },
      ];
      if (methods[0] === 'password') flow.push({ type: 'PasswordVerified', data: { flowId, userId, at: when } });
      if (methods.length > 1 && methods[1] !== 'trust') {
        flow.push({ type: 'MfaRequired', data: { flowId, userId, types: ['totp'], tokenHash: randomUUID(), expiresAt: when, at: when } });
        flow.push({ type: 'MfaSucceeded', data: { flowId, userId, method: methods[1], at: when } });
      }
      if (methods[1] === 'trust') flow.push({ type: 'TrustedDeviceAccepted', data: { flowId, userId, deviceId: `d1${userId}`, at: when } });
      const started = this.sessionStarted(userId, methods, when);
      flow.push({ type: 'LoginCompleted', data: { flowId, userId, sessionId: started.data.sessionId, aal: started.data.aal, at: when } });
      await this.append(tx, `login-${flowId}`, when, flow);
      await this.append(tx, `session-${started.data.sessionId}`, when, [started]);
      if (options.recoveryCode) {
        await this.append(tx, `authenticators-${userId}`, when, [{ type: 'RecoveryCodeUsed', data: { userId, setId: 's1', index: 0, purpose: 'login', at: when } }]);
      }
      if (options.newDevice) {
        await this.append(tx, `device-d2${userId}`, when, [{ type: 'DeviceSeen', data: { deviceId: `d2${userId}`, userId, name: 'Chrome', at: when } }]);
      }
    });
    return this.lastSession(userId);
  }

  async wrongPassword(userId: string, when: string, metadata?: EventMetadata): Promise<void> {
    const flowId = randomUUID();
    await this.tx(async (tx) => {
      await this.append(tx, `login-${flowId}`, when, [
        { type: 'LoginStarted', data: { flowId, userId, method: 'password', at: when } },
        { type: 'PasswordRejected', data: { flowId, userId, at: when } },
      ], metadata);
    });
  }

  /** A correct password, then `failures` wrong TOTP codes, and the pending login expires. */
  async wrongCodes(userId: string, failures: number, when: string, expiredAt: string, metadata?: EventMetadata): Promise<void> {
    const flowId = randomUUID();
    await this.tx(async (tx) => {
      await this.append(tx, `login-${flowId}`, when, [
        { type: 'LoginStarted', data: { flowId, userId, method: 'password', at: when } },
        { type: 'PasswordVerified', data: { flowId, userId, at: when } },
        { type: 'MfaRequired', data: { flowId, userId, types: ['totp'], tokenHash: randomUUID(), expiresAt: expiredAt, at: when } },
      ], metadata);
    });
    for (let i = 0; i < failures; i++) {
      await this.tx(async (tx) => {
        await this.append(tx, `authenticators-${userId}`, when, [{ type: 'TotpCodeRejected', data: { userId, reason: 'INVALID_CODE', purpose: 'login', at: when } }], metadata);
        await this.append(tx, `login-${flowId}`, when, [{ type: 'MfaFailed', data: { flowId, userId, method: 'totp', reason: 'INVALID_CODE', at: when } }], metadata);
      });
    }
    await this.tx(async (tx) => {
      await this.append(tx, `login-${flowId}`, expiredAt, [{ type: 'LoginExpired', data: { flowId, userId, at: expiredAt } }]);
    });
  }

  async abandoned(userId: string, when: string): Promise<void> {
    const flowId = randomUUID();
    await this.tx(async (tx) => {
      await this.append(tx, `login-${flowId}`, when, [
        { type: 'LoginStarted', data: { flowId, userId, method: 'password', at: when } },
        { type: 'LoginAbandoned', data: { flowId, userId, at: when } },
      ]);
    });
  }

  async one(stream: string, type: string, data: Record<string, unknown>, when: string): Promise<void> {
    await this.tx((tx) => this.append(tx, stream, when, [{ type, data: { ...data, at: when } }]));
  }

  activity(userId: string, sessionId: string, when: string): Promise<void> {
    return this.one(`session-${sessionId}`, 'SessionActivityRecorded', { sessionId, userId, ip: address }, when);
  }

  revoke(userId: string, sessionId: string, when: string): Promise<void> {
    return this.one(`session-${sessionId}`, 'SessionRevoked', { sessionId, userId, reason: 'logout' }, when);
  }

  activateTotp(userId: string, when: string): Promise<void> {
    return this.one(`authenticators-${userId}`, 'TotpActivated', { userId, secretCiphertext: 'sealed', keyId: 'k1', step: 1 }, when);
  }

  deactivateTotp(userId: string, when: string): Promise<void> {
    return this.one(`authenticators-${userId}`, 'TotpDeactivated', { userId }, when);
  }

  registerKey(userId: string, when: string): Promise<void> {
    return this.one(`authenticators-${userId}`, 'WebAuthnCredentialRegistered', {
      userId, authenticatorId: `k-${userId}`, credentialId: `c-${userId}`, publicKey: 'pk', counter: 0, transports: [], aaguid: '0', backupEligible: false,
      backedUp: false, isPasswordless: false, name: 'Key',
    }, when);
  }

  deleteUser(userId: string, when: string): Promise<void> {
    return this.one(`user-${userId}`, 'UserDeleted', { userId }, when);
  }
}

/**
 * The 50-user, 10-day history. Per day d (users 5d … 5d+4, called i = 0 … 4 below):
 * - 08:0i all five sign up (a session and a first device each); from day 1, the five sessions of the day before
 *   record activity at 07:00;
 * - 09:0i users i = 0, 1 activate TOTP (3600 s after signup), 10:0i user i = 2 registers a security key (7200 s);
 * - from day 1, 11:00: user 0 of the day before deactivates TOTP (their only factor);
 * - 11:30 user 3 mistypes the password once; 12:00 users 3 and 4 log in with the password; 13:00 user 1 with TOTP;
 *   14:00 on even days user 0 with a recovery code; 15:00 user 2 with the security key, from a new device;
 *   16:00 on odd days user 2 with a passkey; day 5, 17:00 user 1 from a trusted device; 23:00 user 4 logs out;
 * - day 3, 18:00–18:09: ten wrong passwords for user 19 (the lockout reactor locks at the tenth);
 * - day 6, 19:00: user 31 enters the right password, then two wrong TOTP codes, and the login expires at 19:30;
 * - day 8, 21:00: user 42 starts a login and abandons it; day 9, 20:00: user 1 (day 0) deletes the account.
 */
export async function runScenario(app: App, clock: ManualClock): Promise<void> {
  const script = new Script(app, clock);
  const signupSessions: string[][] = [];
  for (let d = 0; d < 10; d++) {
    const users = [0, 1, 2, 3, 4].map((i) => userIdOf(5 * d + i));
    if (d > 0) for (const [i, sessionId] of signupSessions[d - 1]!.entries()) await script.activity(userIdOf(5 * (d - 1) + i), sessionId, at(d, 7));
    const sessions: string[] = [];
    for (const [i, userId] of users.entries()) {
      await script.signup(userId, at(d, 8, i));
      sessions.push(script.lastSession(userId));
    }
    signupSessions.push(sessions);
    await script.activateTotp(users[0]!, at(d, 9, 0));
    await script.activateTotp(users[1]!, at(d, 9, 1));
    await script.registerKey(users[2]!, at(d, 10, 2));
    if (d > 0) await script.deactivateTotp(userIdOf(5 * (d - 1)), at(d, 11));
    await script.wrongPassword(users[3]!, at(d, 11, 30));
    await script.login(users[3]!, ['password'], at(d, 12));
    const logout = await script.login(users[4]!, ['password'], at(d, 12));
    await script.login(users[1]!, ['password', 'totp'], at(d, 13));
    if (d % 2 === 0) await script.login(users[0]!, ['password', 'recovery_code'], at(d, 14), { recoveryCode: true });
    await script.login(users[2]!, ['password', 'webauthn'], at(d, 15), { newDevice: true });
    if (d % 2 === 1) await script.login(users[2]!, ['passkey'], at(d, 16));
    if (d === 5) await script.login(users[1]!, ['password', 'trust'], at(d, 17));
    if (d === 3) for (let m = 0; m < 10; m++) await script.wrongPassword(userIdOf(19), at(3, 18, m));
    if (d === 6) await script.wrongCodes(userIdOf(31), 2, at(6, 19), at(6, 19, 30));
    if (d === 8) await script.abandoned(userIdOf(42), at(8, 21));
    if (d === 9) await script.deleteUser(userIdOf(1), at(9, 20));
    await script.revoke(users[4]!, logout, at(d, 23));
  }
}
