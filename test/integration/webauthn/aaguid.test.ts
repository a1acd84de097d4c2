// Which security keys are accepted: WEBAUTHN_AAGUID_ALLOW / _BLOCK are enforced only with direct attestation verified
// against WEBAUTHN_ATTESTATION_ROOTS (here a root the test generates, and the soft authenticator's `packed`
// attestation under it); with `none` an AAGUID is the authenticator's own claim, and the lists refuse nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAttestationRoot, type TestAttestationRoot } from '../../fixtures/attestation.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { authenticate, beginRegistration, eventsOf, fastArgon, mfaAssertion, PASSWORD, pendingLogin, register, softKey } from './helpers.js';

const GOOD = 'a11a11a1-0000-4000-8000-000000000001';
const BLOCKED = 'b10cb10c-0000-4000-8000-000000000002';
const OTHER = '07e207e2-0000-4000-8000-000000000003';

let root: TestAttestationRoot;
let rogue: TestAttestationRoot;
let rootsFile: string;
beforeAll(async () => {
  root = await createTestAttestationRoot();
  rogue = await createTestAttestationRoot('Not A Trusted Root');
  rootsFile = path.join(mkdtempSync(path.join(tmpdir(), 'tessera-roots-')), 'roots.pem');
  writeFileSync(rootsFile, root.rootPem);
});

async function registerKey(server: TestServer, email: string, aaguid: string, attestation: 'packed' | 'rogue' | 'none') {
  const client = await signedUpUser(server, email, PASSWORD);
  const key = softKey(server);
  const begun = await client.gql(beginRegistration, { p: false });
  const options = begun.data.beginWebAuthnRegistration.creationOptions;
  const packed = attestation === 'none' ? undefined : await (attestation === 'packed' ? root : rogue).attestationFor(aaguid);
  const credential = key.register(options, { aaguid, packed });
  const res = (await client.gql(register, { name: 'Key', credential })).data.registerWebAuthn;
  const userId = (await client.gql(`{ me { id } }`)).data.me?.id ?? (await server.app.db.query<{ user_id: string }>(`select user_id from proj.users where email_hash = $1`, [server.app.personalData.hashes.email(email)]))[0]!.user_id;
  return { client, key, res, userId, options };
}

describe('AAGUID lists with verified direct attestation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { ...fastArgon, WEBAUTHN_ATTESTATION: 'direct', WEBAUTHN_ATTESTATION_ROOTS: rootsFile, WEBAUTHN_AAGUID_BLOCK: BLOCKED, WEBAUTHN_AAGUID_ALLOW: `${GOOD},${BLOCKED}` },
    });
  });
  afterAll(async () => { await server?.close(); });

  it('asks authenticators for direct attestation', async () => {
    const { options } = await registerKey(server, 'asks@example.com', GOOD, 'packed');
    expect(options.attestation).toBe('direct');
  });

  it('registers an allowed key whose attestation chains to the root, and records that it was verified', async () => {
    const { res, userId } = await registerKey(server, 'good@example.com', GOOD, 'packed');
    expect(res.__typename).toBe('RegisterWebAuthnPayload');
    const [registered] = (await eventsOf(server, `authenticators-${userId}`)).filter((e) => e.type === 'WebAuthnCredentialRegistered');
    expect(registered!.data).toMatchObject({ aaguid: GOOD, attestationVerified: true });
  });

  it('a blocked AAGUID cannot register, and the refusal is an event naming it', async () => {
    const { res, userId } = await registerKey(server, 'blocked@example.com', BLOCKED, 'packed');
    expect(res).toMatchObject({ __typename: 'AuthError', code: 'AUTHENTICATOR_NOT_ALLOWED' });
    const events = await eventsOf(server, `authenticators-${userId}`);
    expect(events.map((e) => e.type)).toEqual(['WebAuthnCredentialRefused']);
    expect(events[0]!.data).toMatchObject({ aaguid: BLOCKED, reason: 'AAGUID_BLOCKED', stage: 'registration', attestationVerified: true });
  });

  it('the allow list refuses any other AAGUID', async () => {
    const { res, userId } = await registerKey(server, 'other@example.com', OTHER, 'packed');
    expect(res.code).toBe('AUTHENTICATOR_NOT_ALLOWED');
    expect((await eventsOf(server, `authenticators-${userId}`))[0]!.data).toMatchObject({ aaguid: OTHER, reason: 'AAGUID_NOT_ALLOWED' });
  });

  it('an allowed AAGUID merely claimed (no attestation, or one from an untrusted root) is not trusted', async () => {
    const claimed = await registerKey(server, 'claimed@example.com', GOOD, 'none');
    expect(claimed.res.code).toBe('AUTHENTICATOR_NOT_ALLOWED');
    expect((await eventsOf(server, `authenticators-${claimed.userId}`))[0]!.data).toMatchObject({ aaguid: GOOD, reason: 'AAGUID_NOT_ALLOWED', attestationVerified: false });
    const rogueRoot = await registerKey(server, 'rogue@example.com', GOOD, 'rogue');
    expect(rogueRoot.res.code).toBe('AUTHENTICATOR_NOT_ALLOWED');
  });

  it('a key registered before its AAGUID was blocked is refused at authentication, as an event', async () => {
    const { userId, key } = await registerKey(server, 'later@example.com', GOOD, 'packed');
    const config = server.app.config as { aaguid: { enforced: boolean; allow: readonly string[]; block: readonly string[] } };
    const before = config.aaguid;
    config.aaguid = { ...before, block: [...before.block, GOOD] };
    try {
      const client = await pendingLogin(server, 'later@example.com');
      const res = (await client.gql(authenticate, { credential: await mfaAssertion(client, key) })).data.authenticateWebAuthn;
      expect(res.__typename).not.toBe('AuthPayload');
      const refused = (await eventsOf(server, `authenticators-${userId}`)).filter((e) => e.type === 'WebAuthnCredentialRefused');
      expect(refused.map((e) => e.data)).toEqual([expect.objectContaining({ aaguid: GOOD, reason: 'AAGUID_BLOCKED', stage: 'authentication' })]);
    } finally {
      config.aaguid = before;
    }
  });
});

describe('AAGUID lists without attestation (WEBAUTHN_ATTESTATION=none)', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer({ env: { ...fastArgon, WEBAUTHN_AAGUID_BLOCK: BLOCKED, WEBAUTHN_AAGUID_ALLOW: GOOD } }); });
  afterAll(async () => { await server?.close(); });

  it('are advisory: a self-asserted AAGUID is neither trusted nor refused', async () => {
    const { res, userId, options } = await registerKey(server, 'advisory@example.com', BLOCKED, 'none');
    expect(options.attestation).toBe('none');
    expect(res.__typename).toBe('RegisterWebAuthnPayload');
    const [registered] = (await eventsOf(server, `authenticators-${userId}`)).filter((e) => e.type === 'WebAuthnCredentialRegistered');
    expect(registered!.data.attestationVerified).toBeUndefined();
  });
});
