// Issue 14 item 5: time travel equals folding by hand, on a scripted history with a fixed clock; auditors only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { authenticatorsAt, sessionsAt, userAt } from '../../../src/application/timeTravel.js';
import { loadConfig } from '../../../src/config.js';
import type { NewEvent } from '../../../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const day = '2026-03-03';
const at = (time: string): Date => new Date(`${day}T${time}:00.000Z`);

describe('time travel: userAt, authenticatorsAt, sessionsAt', () => {
  let t: TestDatabase;
  let app: App;
  let dataDir: string;
  const versions = new Map<string, number>();
  const record = async (streamId: string, time: string, event: NewEvent): Promise<void> => {
    const v = versions.get(streamId) ?? 0;
    await app.store.append(streamId, [event], { expectedVersion: v, now: at(time) });
    versions.set(streamId, v + 1);
  };
  const u = 'tt1';
  const session = (sessionId: string, time: string): NewEvent => ({
    type: 'SessionStarted',
    data: { sessionId, userId: u, tokenHash: `h-${sessionId}`, aal: 2, methods: [{ method: 'password', at: at(time).toISOString() }], ip: '192.0.2.1', userAgent: 'test', deviceId: null, enrollOnly: false, at: at(time).toISOString() },
  });

  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-timetravel-'));
    const env = { NODE_ENV: 'test', DATA_DIR: dataDir };
    app = await createApp({ config: loadConfig(env), db: t.db, env, reactors: false });
    const iso = (time: string): string => at(time).toISOString();
    await record(`user-${u}`, '10:00', { type: 'UserRegistered', data: { userId: u, email: 'tt1@example.com', passwordHash: 'x', at: iso('10:00') } });
    await record(`authenticators-${u}`, '10:05', { type: 'TotpActivated', data: { userId: u, secretCiphertext: 'c', keyId: 'k', step: 1, at: iso('10:05') } });
    await record(`authenticators-${u}`, '10:06', { type: 'RecoveryCodesGenerated', data: { userId: u, setId: 'set1', codeHashes: Array.from({ length: 10 }, (_, i) => `h${i}`), codesCiphertext: null, keyId: 'k', at: iso('10:06') } });
    await record('session-s1', '10:10', session('s1', '10:10'));
    await record(`authenticators-${u}`, '10:20', { type: 'WebAuthnCredentialRegistered', data: { userId: u, authenticatorId: 'a1', credentialId: 'cred1', publicKey: 'pk', counter: 0, transports: [], aaguid: '0', backupEligible: false, backedUp: false, isPasswordless: false, name: 'YubiKey', at: iso('10:20') } });
    await record(`authenticators-${u}`, '10:30', { type: 'RecoveryCodeUsed', data: { userId: u, setId: 'set1', index: 0, purpose: 'login', at: iso('10:30') } });
    await record('session-s2', '10:40', session('s2', '10:40'));
    await record('session-s1', '10:45', { type: 'SessionRevoked', data: { sessionId: 's1', userId: u, reason: 'logout', at: iso('10:45') } });
    await record(`authenticators-${u}`, '11:00', { type: 'TotpDeactivated', data: { userId: u, at: iso('11:00') } });
    await record(`user-${u}`, '11:05', { type: 'RoleGranted', data: { userId: u, role: 'auditor', at: iso('11:05') } });
  });
  afterAll(async () => {
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The history above, folded by hand at each instant. */
  const expected = {
    '09:59': { user: null, factors: [], sessions: [] },
    '10:03': { user: { roles: [] }, factors: [], sessions: [] },
    '10:15': { user: { roles: [] }, factors: [['totp', null], ['set1', 10]], sessions: ['s1'] },
    '10:42': { user: { roles: [] }, factors: [['totp', null], ['set1', 9], ['a1', null]], sessions: ['s1', 's2'] },
    '10:50': { user: { roles: [] }, factors: [['totp', null], ['set1', 9], ['a1', null]], sessions: ['s2'] },
    // TOTP gone; the security key is still a second factor, so the recovery codes stay.
    '11:10': { user: { roles: ['auditor'] }, factors: [['set1', 9], ['a1', null]], sessions: ['s2'] },
  } as const;

  for (const [time, want] of Object.entries(expected)) {
    it(`at ${time}`, async () => {
      const user = await userAt(app, u, at(time));
      if (want.user === null) expect(user).toBeNull();
      else expect(user).toMatchObject({ userId: u, email: 'tt1@example.com', roles: want.user.roles, deleted: false });
      const state = await authenticatorsAt(app, u, at(time));
      const factors = [
        ...(state.totp.status === 'active' ? [['totp', null]] : []),
        ...(state.recoveryCodes ? [[state.recoveryCodes.setId, state.recoveryCodes.codeHashes.length - state.recoveryCodes.usedIndexes.length]] : []),
        ...state.webauthn.map((c) => [c.authenticatorId, null]),
      ];
      expect(factors).toEqual(want.factors);
      expect((await sessionsAt(app, u, at(time))).map((s) => s.sessionId)).toEqual(want.sessions);
    });
  }

  it('a session past its idle limit is not live, though nothing ended it', async () => {
    // s2 started 10:40 with no activity since; the idle limit is an hour.
    expect((await sessionsAt(app, u, at('11:39'))).map((s) => s.sessionId)).toEqual(['s2']);
    expect(await sessionsAt(app, u, at('11:41'))).toEqual([]);
  });
});
