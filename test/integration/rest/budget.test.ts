// One budget across transports (DESIGN.md §7): the REST facade calls the same use case as GraphQL, so wrong codes
// alternated between the two draw on one account budget and lockout, and run out at the same count as GraphQL alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restApp } from '../../helpers/allauth.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticateMfaMutation, fastArgon, pendingLogin, T0, userWithTotp } from '../totp/helpers.js';

describe('one attempt budget across REST and GraphQL', () => {
  let server: TestServer;

  beforeAll(async () => {
    // The pending login outlives the attempts below, which are a minute apart (past each back-off).
    server = await startTestServer({ env: { ...fastArgon, LOGIN_FLOW_TTL_SECONDS: '7200' }, now: new Date(T0) });
  });
  afterAll(() => server.close());

  /** Wrong codes against one pending login, each through `transport(i)`; the outcome of each in one vocabulary. */
  async function wrongCodes(email: string, transport: (i: number) => 'graphql' | 'rest', count: number): Promise<string[]> {
    const graphql = await pendingLogin(server, email);
    const rest = restApp(server);
    rest.sessionToken = graphql.token; // the same pending login, carried as allauth's app clients carry it
    const outcomes: string[] = [];
    for (let i = 0; i < count; i++) {
      const code = String(100000 + i);
      if (transport(i) === 'graphql') {
        const res = await graphql.gql(authenticateMfaMutation, { code });
        outcomes.push(res.data.authenticateMfa.code);
      } else {
        const res = await rest.post('/auth/2fa/authenticate', { code });
        expect([400, 429]).toContain(res.status);
        const error = res.body.errors[0].code as string;
        outcomes.push(error === 'incorrect_code' ? 'INVALID_CODE' : error.toUpperCase());
      }
      server.clock.advance(61_000);
    }
    return outcomes;
  }

  it('alternating wrong codes run out at the same count as GraphQL alone', async () => {
    const alone = await userWithTotp(server, 'graphql-only@example.com');
    const mixed = await userWithTotp(server, 'alternating@example.com');
    server.clock.advance(60_000);

    const graphqlOnly = await wrongCodes(alone.email, () => 'graphql', 14);
    const alternating = await wrongCodes(mixed.email, (i) => (i % 2 === 0 ? 'rest' : 'graphql'), 14);

    expect(alternating).toEqual(graphqlOnly);
    const accepted = graphqlOnly.filter((o) => o === 'INVALID_CODE').length;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(14);
    expect(graphqlOnly.slice(accepted).every((o) => o === 'ACCOUNT_LOCKED' || o === 'RATE_LIMITED')).toBe(true);

    // Both accounts have the same failures on record: every evaluated code is an event, whichever transport carried it.
    const rejected = async (userId: string) => (await server.app.store.readStream(`authenticators-${userId}`)).filter((e) => e.type === 'TotpCodeRejected').length;
    expect(await rejected(mixed.userId)).toBe(await rejected(alone.userId));
    expect(await rejected(mixed.userId)).toBe(accepted);
  });
});
