// An attacker who probes emails must not learn which have accounts. Login already answers an unknown email exactly
// like a wrong password; the lockout must too: after repeated failures a real account backs off and locks, and an
// unknown email has to back off and lock the same way, at the same counts, with the same retry times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAttemptBudget } from '../../../src/security/attempts.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';

const login = `mutation($input: CredentialsInput!) { login(input: $input) { __typename ... on Error { code } ... on AuthError { retryAfterSeconds } } }`;

describe('the lockout does not tell which emails exist', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Budgets out of the way: this is about the lockout's answers (the budget already treats both alike).
    server = await startTestServer({ attempts: createMemoryAttemptBudget({ accountPoints: 10_000, ipPoints: 10_000 }) });
    await signedUpUser(server, 'real@example.com');
  });
  afterAll(() => server.close());

  async function probe(email: string): Promise<string> {
    const res = await server.appClient().gql(login, { input: { email, password: 'not the password at all' } });
    const answer = res.data.login;
    return answer.retryAfterSeconds ? `${answer.code}:${answer.retryAfterSeconds}` : answer.code;
  }

  it('answers a real account and an unknown email alike through back-off, lock, expiry and the next lock', async () => {
    const real: string[] = [];
    const ghost: string[] = [];
    for (let round = 0; round < 16; round++) {
      const [r, g] = [await probe('real@example.com'), await probe('ghost@example.com')];
      real.push(r);
      ghost.push(g);
      // Wait out whatever the answer asked for (back-off or lock), then probe again.
      const wait = Number(r.split(':')[1] ?? 0);
      if (wait) server.clock.advance(wait * 1000);
    }
    expect(real).toContain('ACCOUNT_LOCKED:900');
    expect(real.some((a) => a.startsWith('RATE_LIMITED'))).toBe(true);
    expect(ghost).toEqual(real);
  });
});
