// The Crypto SimpleWebAuthn verifies with (src/crypto/webauthn/nodeWebCrypto.ts) against the platform's own
// crypto.subtle: the same digests, the same verdicts on genuine and forged ECDSA signatures, the same refusals of
// keys that are not on their curve, everything else handed to crypto.subtle; and installed where SimpleWebAuthn looks.
import { generateKeyPairSync, randomBytes, sign, type webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeWebCrypto, nodeWebCryptoInstalled } from '../../../src/crypto/webauthn/nodeWebCrypto.js';

const platform = globalThis.crypto.subtle;
const ours = nodeWebCrypto.subtle as unknown as webcrypto.SubtleCrypto;

const cases = [
  { curve: 'P-256', hash: 'SHA-256', node: 'sha256', size: 64 },
  { curve: 'P-384', hash: 'SHA-384', node: 'sha384', size: 96 },
  { curve: 'P-521', hash: 'SHA-512', node: 'sha512', size: 132 },
  // COSE allows any pairing (ES256 on P-384 does occur); the hash follows the algorithm, not the curve.
  { curve: 'P-384', hash: 'SHA-256', node: 'sha256', size: 96 },
  // No COSE algorithm pairs ECDSA with SHA-1, but WebCrypto verifies it: so does ours, with the same verdicts.
  { curve: 'P-256', hash: 'SHA-1', node: 'sha1', size: 64 },
] as const;

describe('node:crypto in place of crypto.subtle for SimpleWebAuthn', () => {
  it('is the Crypto SimpleWebAuthn finds (installed by its internal setter, beside the package entry)', async () => {
    expect(nodeWebCryptoInstalled).toBe(true);
    const entry = import.meta.resolve('@simplewebauthn/server');
    const { getWebCrypto } = (await import(new URL('./helpers/iso/isoCrypto/getWebCrypto.js', entry).href)) as { getWebCrypto(): Promise<unknown> };
    expect(await getWebCrypto()).toBe(nodeWebCrypto);
  });

  it('digests as crypto.subtle does, from any BufferSource', async () => {
    for (const name of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) {
      for (const length of [0, 1, 37, 1000]) {
        const bytes = randomBytes(length + 8);
        const inputs = [bytes.subarray(3, 3 + length), new Uint8Array(bytes).buffer.slice(0, length), new DataView(new Uint8Array(bytes).buffer, 5, length)];
        for (const input of inputs) {
          const got = await ours.digest(name, input);
          expect(got).toBeInstanceOf(ArrayBuffer);
          expect(Buffer.from(got)).toEqual(Buffer.from(await platform.digest(name, input)));
          expect(Buffer.from(await ours.digest({ name }, input))).toEqual(Buffer.from(got));
        }
      }
    }
  });

  for (const c of cases) {
    it(`verifies ECDSA ${c.curve} with ${c.hash} as crypto.subtle does: genuine, forged, truncated, padded, zero, another key's`, async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: c.curve });
      const other = generateKeyPairSync('ec', { namedCurve: c.curve });
      const jwk = { ...publicKey.export({ format: 'jwk' }), ext: false };
      const algorithm = { name: 'ECDSA', namedCurve: c.curve };
      const keys = [await ours.importKey('jwk', jwk, algorithm, false, ['verify']), await platform.importKey('jwk', jwk, algorithm, false, ['verify'])] as const;
      const data = randomBytes(69);
      const signature = sign(c.node, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(signature.length).toBe(c.size);
      const flipped = Buffer.from(signature);
      flipped[10]! ^= 1;
      const alteredData = Buffer.from(data);
      alteredData[0]! ^= 0x80;
      const attempts: Array<[string, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>, boolean]> = [
        ['genuine', signature, data, true],
        ['a flipped bit', flipped, data, false],
        ['altered data', signature, alteredData, false],
        ['truncated', signature.subarray(1), data, false],
        ['padded', Buffer.concat([signature, Buffer.alloc(1)]), data, false],
        ['empty', Buffer.alloc(0), data, false],
        ['all zero', Buffer.alloc(c.size), data, false],
        ['DER-encoded', sign(c.node, data, privateKey), data, false],
        ["another key's", sign(c.node, data, { key: other.privateKey, dsaEncoding: 'ieee-p1363' }), data, false],
      ];
      const verifyAlgorithm = { name: 'ECDSA', hash: { name: c.hash } };
      for (const [what, sig, signed, expected] of attempts) {
        const [mine, theirs] = await Promise.all([ours.verify(verifyAlgorithm, keys[0], sig, signed), platform.verify(verifyAlgorithm, keys[1], sig, signed)]);
        expect({ what, verdict: mine }).toEqual({ what, verdict: theirs });
        expect({ what, verdict: mine }).toEqual({ what, verdict: expected });
      }
    });
  }

  it('refuses a point that is not on the curve, as crypto.subtle does', async () => {
    const jwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), ext: false };
    const y = Buffer.from(jwk.y!, 'base64url');
    y[31]! ^= 1;
    const offCurve = { ...jwk, y: y.toString('base64url') };
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
    await expect(platform.importKey('jwk', offCurve, algorithm, false, ['verify'])).rejects.toThrow();
    await expect(ours.importKey('jwk', offCurve, algorithm, false, ['verify'])).rejects.toThrow();
    // A JWK of another curve than the algorithm names.
    const p384 = { ...generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }), ext: false };
    await expect(platform.importKey('jwk', p384, algorithm, false, ['verify'])).rejects.toThrow();
    await expect(ours.importKey('jwk', p384, algorithm, false, ['verify'])).rejects.toThrow();
  });

  it('hands RSA and Ed25519 keys to crypto.subtle, with the same verdicts', async () => {
    const data = randomBytes(50);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const rsaKey = await ours.importKey('jwk', { ...rsa.publicKey.export({ format: 'jwk' }), ext: false }, rsaAlgorithm, false, ['verify']);
    const rsaSignature = sign('sha256', data, rsa.privateKey);
    expect(await ours.verify(rsaAlgorithm, rsaKey, rsaSignature, data)).toBe(true);
    expect(await ours.verify(rsaAlgorithm, rsaKey, rsaSignature, randomBytes(50))).toBe(false);
    const ed = generateKeyPairSync('ed25519');
    const edKey = await ours.importKey('jwk', { ...ed.publicKey.export({ format: 'jwk' }), ext: false }, { name: 'Ed25519' }, false, ['verify']);
    const edSignature = sign(null, data, ed.privateKey);
    expect(await ours.verify({ name: 'Ed25519' }, edKey, edSignature, data)).toBe(true);
    expect(await ours.verify({ name: 'Ed25519' }, edKey, Buffer.alloc(64), data)).toBe(false);
  });

  it('refuses an ECDSA key for another algorithm, as crypto.subtle does', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...publicKey.export({ format: 'jwk' }), ext: false };
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
    const data = randomBytes(20);
    const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    await expect(platform.verify({ name: 'Ed25519' }, await platform.importKey('jwk', jwk, algorithm, false, ['verify']), signature, data)).rejects.toThrow();
    await expect(ours.verify({ name: 'Ed25519' }, await ours.importKey('jwk', jwk, algorithm, false, ['verify']), signature, data)).rejects.toThrow();
  });
});
