// The second-factor paths draw on the same per-account budget as passwords: 200 parallel wrong TOTP codes against one
// account evaluate at most the budget, and the account's password login is then refused too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, loginMutation, pendingLogin, PASSWORD, userWithTotp } from '../totp/helpers.js';

describe('one budget across factors', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('evaluates at most the budget of 200 parallel wrong TOTP codes, then refuses the right password as well', async () => {
    const user = await userWithTotp(server, 'target@example.com');
    server.clock.advance(60_000);
    const attacker = await pendingLogin(server, user.email);
    const rejectedBefore = (await server.app.store.readStream(`authenticators-${user.userId}`)).filter((e) => e.type === 'TotpCodeRejected').length;

    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => attacker.gql(authenticateMfaMutation, { code: String(100000 + i) })),
    );
    const codes = answers.map((a) => (a.status === 200 ? a.data.authenticateMfa.code : `HTTP ${a.status}`));
    for (const code of codes) expect(['INVALID_CODE', 'RATE_LIMITED', 'ACCOUNT_LOCKED']).toContain(code);
    // Only attempts the budget let through reached the TOTP check, and each of those is on record.
    const evaluated = (await server.app.store.readStream(`authenticators-${user.userId}`)).filter((e) => e.type === 'TotpCodeRejected').length - rejectedBefore;
    expect(evaluated).toBe(codes.filter((c) => c === 'INVALID_CODE').length);
    expect(evaluated).toBeLessThanOrEqual(10);
    expect(evaluated).toBeGreaterThan(0);

    // The same account's budget is spent for the password path too, even with the right password.
    const login = await server.appClient().gql(loginMutation, { email: user.email, password: PASSWORD });
    expect(['RATE_LIMITED', 'ACCOUNT_LOCKED']).toContain(login.data.login.code);
  });
});
