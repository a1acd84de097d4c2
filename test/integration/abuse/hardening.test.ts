// The GraphQL layer's own guards, over real HTTP (issue 6).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

const rejectedPasswords = async (): Promise<number> =>
  Number((await s.app.db.query<{ n: string }>(`select count(*)::text as n from events where type = 'PasswordRejected'`))[0]!.n);

describe('GraphQL hardening', () => {
  it('100 aliased authentication mutations in one request are refused before any is evaluated', async () => {
    await signedUpUser(s, 'aliases@example.com');
    const before = await rejectedPasswords();
    const fields = Array.from({ length: 100 }, (_, i) => `a${i}: login(input: { email: "aliases@example.com", password: "guess ${i}" }) { __typename }`);
    const res = await s.appClient().gql(`mutation { ${fields.join(' ')} }`);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(await rejectedPasswords()).toBe(before);
  });

  it('two authentication mutations in one operation (under the alias limit) are refused before either runs', async () => {
    const before = await rejectedPasswords();
    const res = await s.appClient().gql(`mutation {
      a: login(input: { email: "aliases@example.com", password: "guess a" }) { __typename }
      ...more
    }
    fragment more on Mutation { b: login(input: { email: "aliases@example.com", password: "guess b" }) { __typename } }`);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.map((e) => e.message).join(' ')).toMatch(/at most one authentication mutation/);
    expect(await rejectedPasswords()).toBe(before);
  });

  it('an array batch is refused', async () => {
    const body = JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]);
    const res = await s.appClient().post(body, { 'x-tessera-csrf': '1' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(Array.isArray(await res.json().catch(() => null))).toBe(false);
  });

  it('a depth-50 query is refused by the depth limit', async () => {
    const query = `{ ${'authState { user { '.repeat(1)}${'a { '.repeat(48)}b${' }'.repeat(48)} } } }`;
    const res = await s.appClient().gql(query);
    expect(res.errors?.map((e) => e.message).join(' ')).toMatch(/depth/i);
  });

  it('a 1 MB body is answered 413 before it is parsed', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1024 * 1024) } });
    const res = await s.appClient().post(body, { 'x-tessera-csrf': '1' });
    expect(res.status).toBe(413);
  });

  it('a cookie client posting a form without the CSRF header is refused', async () => {
    const browser = s.browser();
    const login = await browser.gql(`mutation { signup(input: { email: "csrf@example.com", password: "correct horse battery staple" }) { __typename } }`);
    expect(login.data.signup.__typename).toBe('AuthPayload');
    expect(browser.cookie).toBeTruthy();
    const form = `query=${encodeURIComponent('mutation { logout { __typename } }')}`;
    const res = await fetch(`${s.url}/graphql`, {
      method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tessera_session=${browser.cookie}` },
    });
    expect(res.status).toBe(403);
    const me = await browser.gql(`{ me { email } }`);
    expect(me.data.me.email).toBe('csrf@example.com'); // the forged logout did not run
  });
});
