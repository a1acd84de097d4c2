// No anonymous endpoint writes or hashes without drawing from the client address's budget (DESIGN.md §7): signup
// (argon2 and an account), passkey signup and a passkey login's first step (each stores a challenge). And a taken
// address is refused before the hash is paid for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';

const signup = `mutation($input: CredentialsInput!) { signup(input: $input) { __typename ... on Error { code } } }`;
const beginPasskeyLogin = `mutation { beginWebAuthnAuthentication(input: { purpose: PASSKEY_LOGIN }) { __typename ... on Error { code } } }`;
const beginPasskeySignup = `mutation($email: String!) { beginPasskeySignup(input: { email: $email }) { __typename ... on Error { code } } }`;
const PASSWORD = 'correct horse battery staple';

const count = async (server: TestServer, sql: string): Promise<number> => Number((await server.app.db.query<{ n: string }>(sql))[0]!.n);

describe('anonymous writers pay from the address budget', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ANONYMOUS_WRITES_PER_IP: '3', PASSKEY_SIGNUP_ENABLED: 'true' } });
  });
  afterAll(() => server.close());

  it('signup: the fourth from one address (ANONYMOUS_WRITES_PER_IP=3) is RATE_LIMITED, and writes and hashes nothing', async () => {
    let hashes = 0;
    const hash = server.app.passwords.hash.bind(server.app.passwords);
    server.app.passwords.hash = async (password) => { hashes++; return hash(password); };
    for (let i = 1; i <= 3; i++) {
      expect((await server.appClient().gql(signup, { input: { email: `mint${i}@example.com`, password: PASSWORD } })).data.signup.__typename).toBe('AuthPayload');
    }
    const accounts = await count(server, `select count(*) from events where type = 'UserRegistered'`);
    const refused = (await server.appClient().gql(signup, { input: { email: 'mint4@example.com', password: PASSWORD } })).data.signup;
    expect(refused.code).toBe('RATE_LIMITED');
    expect(await count(server, `select count(*) from events where type = 'UserRegistered'`)).toBe(accounts);
    expect(hashes).toBe(3);
  });
});

describe('a passkey ceremony begun anonymously', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ANONYMOUS_WRITES_PER_IP: '3', PASSKEY_SIGNUP_ENABLED: 'true' } });
  });
  afterAll(() => server.close());

  it('beginWebAuthnAuthentication(PASSKEY_LOGIN): the fourth from one address is RATE_LIMITED and stores no challenge', async () => {
    for (let i = 0; i < 3; i++) expect((await server.appClient().gql(beginPasskeyLogin)).data.beginWebAuthnAuthentication.__typename).toBe('WebAuthnRequestOptions');
    const challenges = await count(server, `select count(*) from webauthn_challenges`);
    expect((await server.appClient().gql(beginPasskeyLogin)).data.beginWebAuthnAuthentication.code).toBe('RATE_LIMITED');
    expect((await server.appClient().gql(beginPasskeySignup, { email: 'new@example.com' })).data.beginPasskeySignup.code).toBe('RATE_LIMITED');
    expect(await count(server, `select count(*) from webauthn_challenges`)).toBe(challenges);
  });

  it('counts as the one authentication mutation of an operation: fifteen aliases are refused before any runs', async () => {
    const fields = Array.from({ length: 15 }, (_, i) => `b${i}: beginWebAuthnAuthentication(input: { purpose: PASSKEY_LOGIN }) { __typename }`);
    const before = await count(server, `select count(*) from webauthn_challenges`);
    const res = await server.appClient().gql(`mutation { ${fields.join(' ')} }`);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.map((e) => e.message).join(' ')).toMatch(/at most one authentication mutation/);
    expect(await count(server, `select count(*) from webauthn_challenges`)).toBe(before);
  });
});

describe('signup for a taken address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('is refused before the password is hashed', async () => {
    await signedUpUser(server, 'taken@example.com', PASSWORD);
    let hashes = 0;
    const hash = server.app.passwords.hash.bind(server.app.passwords);
    server.app.passwords.hash = async (password) => { hashes++; return hash(password); };
    expect((await server.appClient().gql(signup, { input: { email: 'taken@example.com', password: PASSWORD } })).data.signup.code).toBe('EMAIL_TAKEN');
    expect(hashes).toBe(0);
  });
});
