// Ceremonies against the in-process soft authenticator, verified through src/crypto/webauthn/.
// Every tamper is re-signed by the authenticator, so each refusal comes from the check named in the test
// and not merely from a broken signature.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuthenticationOptions, verifyAuthentication, type AuthenticationVerification } from '../../../src/crypto/webauthn/authentication.js';
import { parseAuthenticatorData } from '../../../src/crypto/webauthn/authenticatorData.js';
import type { WebAuthnConfig } from '../../../src/crypto/webauthn/config.js';
import { counterRegressed } from '../../../src/crypto/webauthn/counter.js';
import { createRegistrationOptions, verifyRegistration, type RegisteredCredential } from '../../../src/crypto/webauthn/registration.js';
import {
  authenticationResponseSchema,
  extractCredentialId,
  extractUserHandle,
  registrationResponseSchema,
  userIdFromUserHandle,
} from '../../../src/crypto/webauthn/responses.js';
import { createSoftAuthenticator, type SoftAuthenticator, type SoftOverrides } from '../../fixtures/softAuthenticator.js';

const ORIGIN = 'http://localhost:4000';
const config: WebAuthnConfig = { rpId: 'localhost', rpName: 'Tessera', origins: [ORIGIN], allowInsecureOrigin: false };
const USER = { id: '0b9c1a52-6f1e-4c55-9d7e-4b8a3f0e2d11', name: 'ada@example.test' };

interface Enrolled {
  readonly authenticator: SoftAuthenticator;
  readonly credential: RegisteredCredential;
}

async function enrol(passwordless: boolean, counterMode: 'increment' | 'zero' = 'increment'): Promise<Enrolled> {
  const authenticator = createSoftAuthenticator({ origin: ORIGIN, rpId: 'localhost', counterMode });
  const { options, challenge } = await createRegistrationOptions({
    config,
    user: USER,
    excludeCredentials: [],
    passwordless,
  });
  const result = await verifyRegistration({
    config,
    response: authenticator.register(options),
    expectedChallenge: challenge,
    requireUserVerification: passwordless,
  });
  if (!result.verified) throw new Error(`enrolment failed: ${result.reason}`);
  return { authenticator, credential: result.credential };
}

async function assertWith(
  enrolled: Enrolled,
  overrides: SoftOverrides = {},
  requireUserVerification = false,
  storedCounter = enrolled.credential.counter,
): Promise<AuthenticationVerification> {
  const { options, challenge } = await createAuthenticationOptions({
    config,
    allowCredentials: [{ id: enrolled.credential.id }],
    userVerification: requireUserVerification ? 'required' : 'preferred',
  });
  return verifyAuthentication({
    config,
    response: enrolled.authenticator.assert(options, overrides),
    expectedChallenge: challenge,
    credential: { ...enrolled.credential, counter: storedCounter },
    requireUserVerification,
  });
}

describe('registration options', () => {
  it('a passkey demands a resident key and user verification; a security key discourages the resident key', async () => {
    const passkey = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless: true });
    const securityKey = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless: false });
    expect(passkey.options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    expect(securityKey.options.authenticatorSelection).toMatchObject({
      residentKey: 'discouraged',
      userVerification: 'preferred',
    });
    expect(passkey.options.attestation).toBe('none');
    expect(passkey.options.pubKeyCredParams.map((param) => param.alg)).toEqual(expect.arrayContaining([-7, -257]));
  });

  it('uses a fresh 32-byte challenge each time and the user id as the user handle', async () => {
    const first = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless: false });
    const second = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless: false });
    expect(Buffer.from(first.challenge, 'base64url')).toHaveLength(32);
    expect(first.challenge).not.toBe(second.challenge);
    expect(first.options.challenge).toBe(first.challenge);
    expect(userIdFromUserHandle(first.options.user.id)).toBe(USER.id);
    expect(first.options.user.id).toBe(second.options.user.id);
  });

  it('refuses an email address as the user handle, because authenticators may display or sync it', async () => {
    await expect(
      createRegistrationOptions({ config, user: { id: 'ada@example.test', name: 'ada' }, excludeCredentials: [], passwordless: false }),
    ).rejects.toThrow(/opaque/);
  });

  it('lists existing credentials as excluded so one device cannot be registered twice', async () => {
    const enrolled = await enrol(false);
    const again = await createRegistrationOptions({
      config,
      user: USER,
      excludeCredentials: [{ id: enrolled.credential.id, transports: ['internal'] }],
      passwordless: false,
    });
    expect(again.options.excludeCredentials?.map((descriptor) => descriptor.id)).toEqual([enrolled.credential.id]);
    expect(() => enrolled.authenticator.register(again.options)).toThrow(/InvalidStateError/);
  });
});

describe('registration verification', () => {
  it('a genuine registration verifies and yields the credential to store', async () => {
    const { credential } = await enrol(true);
    expect(credential).toMatchObject({
      counter: 0,
      transports: ['internal'],
      aaguid: '5e17a07e-0000-0000-0000-00000000cafe',
      backupEligible: false,
      backedUp: false,
      deviceType: 'singleDevice',
      userVerified: true,
    });
    expect(credential.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(credential.publicKey, 'base64url').length).toBeGreaterThan(60);
  });

  it('reports backup eligibility and state from the authenticator flags', async () => {
    const authenticator = createSoftAuthenticator({ origin: ORIGIN, rpId: 'localhost', flags: { be: true, bs: true } });
    const { options, challenge } = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless: true });
    const result = await verifyRegistration({
      config,
      response: authenticator.register(options),
      expectedChallenge: challenge,
      requireUserVerification: true,
    });
    expect(result).toMatchObject({ verified: true, credential: { backupEligible: true, backedUp: true, deviceType: 'multiDevice' } });
  });

  const tampers: Array<[string, SoftOverrides, string]> = [
    ['a phishing origin', { origin: 'http://localhost:4001' }, 'ORIGIN_MISMATCH'],
    ['another RP ID', { rpId: 'evil.example' }, 'RP_ID_MISMATCH'],
    ['a raw rpIdHash of zeros', { rpIdHash: new Uint8Array(32) }, 'RP_ID_MISMATCH'],
    ['the user-present flag off', { flags: { up: false } }, 'USER_NOT_PRESENT'],
    ['the user-verified flag off when verification is required', { flags: { uv: false } }, 'USER_NOT_VERIFIED'],
    ['another challenge', { challenge: Buffer.alloc(32, 7).toString('base64url') }, 'CHALLENGE_MISMATCH'],
    ['an assertion type', { type: 'webauthn.get' }, 'TYPE_MISMATCH'],
  ];
  it.each(tampers)('a registration with %s is refused, not thrown', async (_name, overrides, reason) => {
    const authenticator = createSoftAuthenticator({ origin: ORIGIN, rpId: 'localhost' });
    const { options, challenge } = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless: true });
    const result = await verifyRegistration({
      config,
      response: authenticator.register(options, overrides),
      expectedChallenge: challenge,
      requireUserVerification: true,
    });
    expect(result).toEqual({ verified: false, reason });
  });

  it('a second-factor registration without user verification is accepted when not required', async () => {
    const authenticator = createSoftAuthenticator({ origin: ORIGIN, rpId: 'localhost' });
    const { options, challenge } = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless: false });
    const result = await verifyRegistration({
      config,
      response: authenticator.register(options, { flags: { uv: false } }),
      expectedChallenge: challenge,
      requireUserVerification: false,
    });
    expect(result).toMatchObject({ verified: true, credential: { userVerified: false } });
  });

  it('a corrupted attestation object is MALFORMED, not a throw', async () => {
    const authenticator = createSoftAuthenticator({ origin: ORIGIN, rpId: 'localhost' });
    const { options, challenge } = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless: false });
    const response = authenticator.register(options);
    const broken = { ...response, response: { ...response.response, attestationObject: 'AAAA' } };
    const result = await verifyRegistration({ config, response: broken, expectedChallenge: challenge, requireUserVerification: false });
    expect(result).toEqual({ verified: false, reason: 'MALFORMED' });
  });
});

describe('authentication verification', () => {
  it('a genuine assertion verifies and reports the new counter', async () => {
    const enrolled = await enrol(false);
    const first = await assertWith(enrolled);
    expect(first).toEqual({ verified: true, newCounter: 1, userVerified: true, backupEligible: false, backedUp: false });
    const second = await assertWith(enrolled, {}, false, 1);
    expect(second).toMatchObject({ verified: true, newCounter: 2 });
  });

  const tampers: Array<[string, SoftOverrides, string]> = [
    ['a phishing origin', { origin: 'https://tessera.evil.example' }, 'ORIGIN_MISMATCH'],
    ['another RP ID', { rpId: 'evil.example' }, 'RP_ID_MISMATCH'],
    ['the user-present flag off', { flags: { up: false } }, 'USER_NOT_PRESENT'],
    ['the user-verified flag off when verification is required', { flags: { uv: false } }, 'USER_NOT_VERIFIED'],
    ['another challenge', { challenge: Buffer.alloc(32, 9).toString('base64url') }, 'CHALLENGE_MISMATCH'],
    ['a registration type', { type: 'webauthn.create' }, 'TYPE_MISMATCH'],
    ['a bad signature', { corruptSignature: true }, 'SIGNATURE_INVALID'],
    ['another credential id', { credentialId: Buffer.alloc(32, 1).toString('base64url') }, 'CREDENTIAL_MISMATCH'],
  ];
  it.each(tampers)('an assertion with %s is refused, not thrown', async (_name, overrides, reason) => {
    const enrolled = await enrol(true);
    await expect(assertWith(enrolled, overrides, true)).resolves.toEqual({ verified: false, reason });
  });

  it('an assertion signed by a different key of the same id does not verify', async () => {
    const victim = await enrol(false);
    const attacker = await enrol(false);
    const { options, challenge } = await createAuthenticationOptions({
      config,
      allowCredentials: [{ id: attacker.credential.id }],
      userVerification: 'preferred',
    });
    const forged = attacker.authenticator.assert(options, { credentialId: victim.credential.id });
    const result = await verifyAuthentication({
      config,
      response: forged,
      expectedChallenge: challenge,
      credential: victim.credential,
      requireUserVerification: false,
    });
    expect(result).toEqual({ verified: false, reason: 'SIGNATURE_INVALID' });
  });

  it('a counter regression is reported to the caller rather than thrown by the wrapper', async () => {
    const enrolled = await enrol(false);
    // The stored counter is 5; a clone replays with counter 3 (signature still valid).
    const result = await assertWith(enrolled, { counter: 3 }, false, 5);
    expect(result).toMatchObject({ verified: true, newCounter: 3 });
    if (!result.verified) throw new Error('unreachable');
    expect(counterRegressed(5, result.newCounter)).toBe(true);
    // An equal counter is also a regression: a genuine authenticator always moves forward.
    expect(counterRegressed(5, 5)).toBe(true);
    expect(counterRegressed(5, 6)).toBe(false);
  });

  it('an authenticator without a counter (always zero) is not a regression', async () => {
    const enrolled = await enrol(true, 'zero');
    const result = await assertWith(enrolled, {}, true);
    expect(result).toMatchObject({ verified: true, newCounter: 0 });
    expect(counterRegressed(0, 0)).toBe(false);
  });

  it('a discoverable assertion carries the user handle that maps back to the user id', async () => {
    const enrolled = await enrol(true);
    const { options, challenge } = await createAuthenticationOptions({ config, userVerification: 'required' });
    expect(options.allowCredentials ?? []).toEqual([]);
    const response = enrolled.authenticator.assert(options);
    const handle = extractUserHandle(response);
    expect(handle).not.toBeNull();
    expect(userIdFromUserHandle(handle ?? '')).toBe(USER.id);
    expect(extractCredentialId(response)).toBe(enrolled.credential.id);
    const result = await verifyAuthentication({
      config,
      response,
      expectedChallenge: challenge,
      credential: enrolled.credential,
      requireUserVerification: true,
    });
    expect(result).toMatchObject({ verified: true, userVerified: true });
  });
});

describe('response shape', () => {
  it('rejects malformed and oversized credential JSON at the schema', async () => {
    const enrolled = await enrol(false);
    const { options } = await createAuthenticationOptions({ config, userVerification: 'preferred' , allowCredentials: [{ id: enrolled.credential.id }] });
    const genuine = enrolled.authenticator.assert(options);
    expect(authenticationResponseSchema.safeParse(genuine).success).toBe(true);

    const megabyte = 'A'.repeat(1024 * 1024);
    const bad: unknown[] = [
      megabyte,
      null,
      42,
      { ...genuine, type: 'password' },
      { ...genuine, id: 'not base64url!' },
      { ...genuine, id: megabyte, rawId: megabyte },
      { ...genuine, response: { ...genuine.response, clientDataJSON: megabyte } },
      { ...genuine, response: { ...genuine.response, signature: undefined } },
      { ...genuine, clientExtensionResults: { junk: megabyte } },
    ];
    for (const input of bad) {
      expect(authenticationResponseSchema.safeParse(input).success).toBe(false);
      expect(registrationResponseSchema.safeParse(input).success).toBe(false);
    }
    expect(registrationResponseSchema.safeParse({ id: 'AA', rawId: 'AA', type: 'public-key', response: {
      clientDataJSON: 'AA', attestationObject: megabyte } }).success).toBe(false);
  });

  it('verification and the extract helpers answer malformed input without throwing', async () => {
    const enrolled = await enrol(false);
    for (const input of ['{', 'A'.repeat(1024 * 1024), { id: 1 }, undefined]) {
      await expect(
        verifyAuthentication({ config, response: input, expectedChallenge: 'x', credential: enrolled.credential, requireUserVerification: false }),
      ).resolves.toEqual({ verified: false, reason: 'MALFORMED' });
      await expect(
        verifyRegistration({ config, response: input, expectedChallenge: 'x', requireUserVerification: false }),
      ).resolves.toEqual({ verified: false, reason: 'MALFORMED' });
      expect(extractUserHandle(input)).toBeNull();
      expect(extractCredentialId(input)).toBeNull();
    }
  });

  it('parses the authenticator data header and refuses a short one', () => {
    const bytes = new Uint8Array(37);
    bytes.set(createHash('sha256').update('localhost').digest(), 0);
    bytes[32] = 0x01 | 0x04 | 0x08 | 0x40;
    bytes[36] = 7;
    expect(parseAuthenticatorData(bytes)).toMatchObject({
      flags: { up: true, uv: true, be: true, bs: false, at: true, ed: false },
      counter: 7,
    });
    expect(parseAuthenticatorData(new Uint8Array(36))).toBeNull();
  });
});
