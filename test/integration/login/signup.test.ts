// Signup over HTTP: email normalization and uniqueness under a race, the password policy, and argon2id parameters
// (including the upgrade of a weaker stored hash at the next successful login).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hash as argon2Hash } from '@node-rs/argon2';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createAccount } from '../../../src/application/signup.js';
import { emailClaimAggregate } from '../../../src/domain/user/aggregate.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { eventsOfType, login, PASSWORD, signup, userIdOf } from './support.js';

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server?.close(); });

describe('signup', () => {
  it('trims, case-folds and NFC-normalizes the email; login works with any spelling of it', async () => {
    const result = await signup(server.appClient(), '  Ada.Lovelace@Example.COM\t');
    expect(result.__typename).toBe('AuthPayload');
    expect(result.authState.isAuthenticated).toBe(true);
    const [registered] = (await eventsOfType(server, 'UserRegistered')).filter((e) => e.data.email.startsWith('ada.'));
    expect(registered!.data.email).toBe('ada.lovelace@example.com');
    expect((await login(server.appClient(), 'ADA.LOVELACE@example.com ')).__typename).toBe('AuthPayload');
  });

  it('stores a non-ASCII address in NFC: the decomposed and the composed spelling are one account', async () => {
    const decomposed = 'Rene\u0301@Example.com';
    const result = await signup(server.appClient(), decomposed);
    expect(result.__typename, JSON.stringify(result)).toBe('AuthPayload');
    const [registered] = (await eventsOfType(server, 'UserRegistered')).filter((e) => e.data.email.startsWith('ren'));
    expect(registered!.data.email).toBe('ren\u00e9@example.com');
    expect((await signup(server.appClient(), 'REN\u00c9@example.com')).code).toBe('EMAIL_TAKEN');
    expect((await login(server.appClient(), 'ren\u00e9@EXAMPLE.com')).__typename).toBe('AuthPayload');
  });

  it('two concurrent signups for one email make exactly one account', async () => {
    const email = 'race@example.com';
    const results = await Promise.all([signup(server.appClient(), email), signup(server.browser(), email.toUpperCase(), 'another good passphrase')]);
    expect(results.map((r) => r.__typename).sort()).toEqual(['AuthError', 'AuthPayload']);
    expect(results.find((r) => r.__typename === 'AuthError').code).toBe('EMAIL_TAKEN');
    expect((await eventsOfType(server, 'UserRegistered')).filter((e) => e.data.email === email)).toHaveLength(1);
    const userId = await userIdOf(server, email);
    expect((await eventsOfType(server, 'EmailClaimed')).filter((e) => e.data.userId === userId)).toHaveLength(1);
    // The address's claim stream holds one claim: the loser wrote nothing anywhere.
    expect((await server.app.store.readStream(emailClaimAggregate.streamId(server.app.personalData.hashes.email(email)))).map((e) => e.type)).toEqual(['EmailClaimed']);
  });

  it.each([
    ['7 characters', 'abcdefg', 'at least 8'],
    ['257 characters', 'x'.repeat(256) + 'y', 'at most 256'],
    ['a common password', 'password123', 'too common'],
    ['a common password in another case', 'Password123', 'too common'],
  ])('refuses %s with WEAK_PASSWORD naming the field, and writes nothing', async (_name, password, message) => {
    const before = (await eventsOfType(server, 'UserRegistered')).length;
    const result = await signup(server.appClient(), `weak-${password.length}-${password.slice(0, 3)}@example.com`, password);
    expect(result).toMatchObject({ __typename: 'AuthError', code: 'WEAK_PASSWORD', field: 'password' });
    expect(result.message).toContain(message);
    expect((await eventsOfType(server, 'UserRegistered')).length).toBe(before);
  });

  it.each([
    ['8 lowercase letters', 'qzxwvjkq'],
    ['256 characters', 'ab'.repeat(128)],
    ['only digits and spaces', '4812 9930 1177'],
  ])('has no composition rules: accepts %s', async (_name, password) => {
    expect((await signup(server.appClient(), `ok-${password.length}-${password.slice(0, 2).trim()}@example.com`, password)).__typename).toBe('AuthPayload');
  });

  it('hashes with argon2id m=19456, t=2, p=1 and writes no password in clear', async () => {
    await signup(server.appClient(), 'phc@example.com');
    const [event] = (await eventsOfType(server, 'UserRegistered')).filter((e) => e.data.email === 'phc@example.com');
    expect(event!.data.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    const [leak] = await server.app.db.query(`select 1 from events where data::text like $1 or metadata::text like $1`, [`%${PASSWORD}%`]);
    expect(leak).toBeUndefined();
  });

  it('upgrades a hash made with weaker parameters at the next successful login (PasswordChanged rehashed)', async () => {
    // An app on the same database configured with weaker parameters signs the user up, as an older deployment would.
    const weakApp = await createApp({
      config: loadConfig({ NODE_ENV: 'test', DATA_DIR: '.data/test', ARGON2_MEMORY_KIB: '4096', ARGON2_TIME_COST: '1' }),
      db: server.database.reopen(),
      clock: server.clock,
    });
    const { userId } = await createAccount(weakApp, { email: 'legacy@example.com', password: PASSWORD }, { clientAddress: 'test', userAgent: 'test', requestId: 'test', actor: 'test' });
    const [registered] = (await eventsOfType(server, 'UserRegistered')).filter((e) => e.data.userId === userId);
    expect(registered!.data.passwordHash).toContain('$m=4096,t=1,p=1$');

    // A wrong password changes nothing.
    expect((await login(server.appClient(), 'legacy@example.com', 'not the password at all')).code).toBe('INVALID_CREDENTIALS');
    expect((await eventsOfType(server, 'PasswordChanged')).filter((e) => e.data.userId === userId)).toHaveLength(0);

    expect((await login(server.appClient(), 'legacy@example.com')).__typename).toBe('AuthPayload');
    const changed = (await eventsOfType(server, 'PasswordChanged')).filter((e) => e.data.userId === userId);
    expect(changed).toHaveLength(1);
    expect(changed[0]!.data.reason).toBe('rehashed');
    expect(changed[0]!.data.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    // The upgraded hash verifies, and is not upgraded again.
    expect((await login(server.appClient(), 'legacy@example.com')).__typename).toBe('AuthPayload');
    expect((await eventsOfType(server, 'PasswordChanged')).filter((e) => e.data.userId === userId)).toHaveLength(1);
  });

  it('upgrades a weak hash written by a PasswordChanged event too', async () => {
    const client = server.appClient();
    await signup(client, 'appended@example.com');
    const userId = await userIdOf(server, 'appended@example.com');
    const weak = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await server.app.store.append(`user-${userId}`, [{ type: 'PasswordChanged', data: { userId, passwordHash: weak, reason: 'changed', at: server.clock.now().toISOString() } }], { expectedVersion: 'any', metadata: { actor: 'test' }, now: server.clock.now() });
    expect((await login(server.appClient(), 'appended@example.com')).__typename).toBe('AuthPayload');
    const changed = (await eventsOfType(server, 'PasswordChanged')).filter((e) => e.data.userId === userId);
    expect(changed.map((e) => e.data.reason)).toEqual(['changed', 'rehashed']);
    expect(changed[1]!.data.passwordHash).toMatch(/m=19456,t=2,p=1/);
  });
});
