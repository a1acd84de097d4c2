// Twenty submissions of one code at once: the expected-version check on the authenticators stream lets exactly one
// through; the others re-read, find the replay and record it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAttemptBudget } from '../../../src/security/attempts.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, codeAt, fastArgon, mfaReauthenticateMutation, pendingLogin, T0, userWithTotp } from './helpers.js';

describe('concurrent submissions of one code', () => {
  let server: TestServer;
  beforeAll(async () => {
    // A budget wide enough that all twenty reach the decider: the race, not the throttle, is under test here.
    server = await startTestServer({ now: new Date(T0), env: fastArgon, attempts: createMemoryAttemptBudget({ points: 1000 }) });
  });
  afterAll(() => server.close());

  it('accepts one TOTP code once across 20 pending logins of the same user', async () => {
    server.clock.set(T0);
    const user = await userWithTotp(server, 'race-totp@example.com');
    server.clock.advance(30_000);
    const clients = await Promise.all(Array.from({ length: 20 }, () => pendingLogin(server, user.email)));
    const code = await codeAt(user.secret, server.clock.now().getTime());
    const results = await Promise.all(clients.map((c) => c.gql(authenticateMfaMutation, { code })));
    expect(results.every((r) => r.status === 200 && !r.errors)).toBe(true);
    const outcomes = results.map((r) => r.data.authenticateMfa.__typename === 'AuthPayload' ? 'ok' : r.data.authenticateMfa.code);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'CODE_REPLAYED')).toHaveLength(19);
    const events = await server.app.store.readStream(`authenticators-${user.userId}`);
    expect(events.filter((e) => e.type === 'TotpCodeAccepted')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'TotpCodeRejected')).toHaveLength(19);
    const sessions = await server.app.db.query(`select 1 from events where type = 'LoginCompleted' and data->>'userId' = $1 and (data->>'aal')::int = 2`, [user.userId]);
    expect(sessions).toHaveLength(1);
  });

  it('accepts one recovery code once across 20 concurrent mfaReauthenticate calls', async () => {
    server.clock.set(T0 + 3600_000);
    const user = await userWithTotp(server, 'race-recovery@example.com');
    const code = user.recoveryCodes[3]!;
    // 20 sessions of the same user (each a full MFA login), all stepping up with the same recovery code.
    const sessions = [];
    for (let i = 0; i < 20; i++) {
      server.clock.advance(30_000);
      const c = await pendingLogin(server, user.email);
      const res = await c.gql(authenticateMfaMutation, { code: await codeAt(user.secret, server.clock.now().getTime()) });
      expect(res.data.authenticateMfa.__typename).toBe('AuthPayload');
      sessions.push(c);
    }
    const results = await Promise.all(sessions.map((c) => c.gql(mfaReauthenticateMutation, { code })));
    const outcomes = results.map((r) => r.data.mfaReauthenticate.__typename === 'AuthPayload' ? 'ok' : r.data.mfaReauthenticate.code);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'CODE_REPLAYED')).toHaveLength(19);
    const events = await server.app.store.readStream(`authenticators-${user.userId}`);
    expect(events.filter((e) => e.type === 'RecoveryCodeUsed')).toHaveLength(1);
  });
});
