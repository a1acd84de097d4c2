// Bad input at the edge: a GraphQL validation error or VALIDATION_FAILED naming the field, never a 500, nothing written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { CHANGE_EMAIL, eventCount, LOGIN, PASSWORD, REAUTHENTICATE, SIGNUP } from './support.js';

let server: TestServer;
// The 1 MB inputs must reach the resolvers: the request-size limit (a separate hardening concern) is raised here.
beforeAll(async () => { server = await startTestServer({ env: { MAX_REQUEST_BYTES: String(8 * 1024 * 1024) } }); });
afterAll(async () => { await server?.close(); });

const MB = 'a'.repeat(1024 * 1024);

describe('bad input', () => {
  it.each(['signup', 'login'])('%s with a missing field is a GraphQL validation error, not a 500, and writes nothing', async (op) => {
    const before = await eventCount(server);
    const res = await server.appClient().gql(`mutation { ${op}(input: { email: "a@example.com" }) { __typename } }`);
    expect(res.status).toBeLessThan(500);
    expect(res.errors?.[0]?.message).toMatch(/password/);
    const noInput = await server.appClient().gql(`mutation { ${op} { __typename } }`);
    expect(noInput.status).toBeLessThan(500);
    expect(noInput.errors?.[0]?.message).toMatch(/input/);
    const nullVar = await server.appClient().gql(op === 'signup' ? SIGNUP : LOGIN, { input: { email: null, password: PASSWORD } });
    expect(nullVar.status).toBeLessThan(500);
    expect(nullVar.errors?.length).toBeGreaterThan(0);
    expect(await eventCount(server)).toBe(before);
  });

  const cases: Array<[string, { email: string; password: string }, string]> = [
    ['a 1 MB email', { email: `${MB}@example.com`, password: PASSWORD }, 'email'],
    ['a 1 MB password', { email: 'big@example.com', password: MB }, 'password'],
    ['an invalid email', { email: 'not-an-email', password: PASSWORD }, 'email'],
    ['an email without a domain dot', { email: 'someone@localhost', password: PASSWORD }, 'email'],
    ['a NUL in the email', { email: 'a\u0000b@example.com', password: PASSWORD }, 'email'],
    ['a newline in the email', { email: 'a@example.com\nbcc@evil.com', password: PASSWORD }, 'email'],
    ['a DEL in the email', { email: 'a\u007f@example.com', password: PASSWORD }, 'email'],
    ['an empty password', { email: 'empty@example.com', password: '' }, 'password'],
  ];
  for (const op of ['signup', 'login'] as const) {
    it.each(cases)(`${op} with %s answers VALIDATION_FAILED naming the field and writes nothing`, async (_name, input, field) => {
      const before = await eventCount(server);
      const res = await server.appClient().gql(op === 'signup' ? SIGNUP : LOGIN, { input });
      expect(res.status).toBe(200);
      expect(res.data[op]).toMatchObject({ __typename: 'AuthError', code: 'VALIDATION_FAILED', field });
      expect(res.data[op].message.length).toBeLessThan(200);
      expect(await eventCount(server)).toBe(before);
    });
  }

  it('a 1 MB password on reauthenticate and a control character in changeEmail are refused the same way', async () => {
    const client = await signedUpUser(server, 'edge@example.com');
    const before = await eventCount(server);
    expect((await client.gql(REAUTHENTICATE, { password: MB })).data.reauthenticate).toMatchObject({ code: 'VALIDATION_FAILED', field: 'password' });
    expect((await client.gql(CHANGE_EMAIL, { email: 'new\u0007@example.com' })).data.changeEmail).toMatchObject({ code: 'VALIDATION_FAILED', field: 'email' });
    expect(await eventCount(server)).toBe(before);
  });

  it('passwords up to 1024 characters pass the edge; the policy caps new ones at 256', async () => {
    const before = await eventCount(server);
    const res = await server.appClient().gql(SIGNUP, { input: { email: 'long@example.com', password: 'b'.repeat(1024) } });
    expect(res.data.signup).toMatchObject({ code: 'WEAK_PASSWORD', field: 'password' });
    expect(await eventCount(server)).toBe(before);
    // At login, an over-long password is simply wrong (and recorded as a rejected attempt).
    expect((await server.appClient().gql(LOGIN, { input: { email: 'edge@example.com', password: 'b'.repeat(1024) } })).data.login.code).toBe('INVALID_CREDENTIALS');
  });
});
