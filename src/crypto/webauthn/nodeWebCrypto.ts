// The Web Crypto that @simplewebauthn/server verifies with, answered by node:crypto in place where it can be.
//
// Why: SimpleWebAuthn hashes (the client data, the RP ID) and verifies signatures through globalThis.crypto.subtle.
// In Node every such call is a job handed to the libuv thread pool and back, behind WebIDL argument conversion; in
// the passkey login's CPU profile the two digests, the key import and the verify cost the main thread about 0.6 ms
// of a 3 ms login, and woke a pool thread three times. node:crypto does the same work synchronously, in microseconds.
//
// What: the same `Crypto` interface, where SHA digests and ECDSA keys imported from JWK (the curves WebAuthn uses,
// P-256, P-384, P-521) are done by node:crypto; anything else (RSA, Ed25519, ML-DSA keys, other algorithms, formats
// or usages) goes to the platform's own crypto.subtle unchanged. The answers are those WebCrypto gives: a digest as
// an ArrayBuffer, an ECDSA verdict on the raw r‖s signature (IEEE P1363) as true or false, never a throw for a bad
// signature. test/unit/webauthn/nodeWebCrypto.test.ts checks it against crypto.subtle, valid and forged inputs alike.
//
// How it is installed: SimpleWebAuthn caches the Crypto it found, and keeps a setter for tests
// (`_getWebCryptoInternals.setCachedCrypto`) in a module its package exports do not expose; it is imported by its
// file URL, beside the package's entry. If a later version moves it, nothing is installed, the library goes on with
// globalThis.crypto (correct, only slower) and `nodeWebCryptoInstalled` says so (a test fails on it).
import { createHash, createPublicKey, verify as nodeVerify, type KeyObject, type webcrypto } from 'node:crypto';

type BufferSource = ArrayBuffer | ArrayBufferView;

const platform = globalThis.crypto;

/** WebCrypto hash names → node:crypto's. */
const hashes: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const curves = new Set(['P-256', 'P-384', 'P-521']);

function nameOf(algorithm: unknown): string | undefined {
  if (typeof algorithm === 'string') return algorithm.toUpperCase();
  const name = (algorithm as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name.toUpperCase() : undefined;
}

function bytesOf(data: BufferSource): Uint8Array {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** An ECDSA public key imported here: only this module's verify knows what to do with it. */
class NodeEcdsaKey {
  readonly type = 'public';
  readonly extractable = false;
  readonly usages = ['verify'];
  constructor(readonly keyObject: KeyObject, readonly algorithm: { name: 'ECDSA'; namedCurve: string }) {}
}

const subtle = {
  digest(algorithm: unknown, data: BufferSource): Promise<ArrayBuffer> {
    const hash = hashes[nameOf(algorithm) ?? ''];
    if (!hash) return platform.subtle.digest(algorithm as never, data as never);
    return Promise.resolve(arrayBufferOf(createHash(hash).update(bytesOf(data)).digest()));
  },

  importKey(format: string, keyData: unknown, algorithm: unknown, extractable: boolean, usages: readonly string[]): Promise<unknown> {
    const jwk = keyData as webcrypto.JsonWebKey;
    const curve = (algorithm as { namedCurve?: unknown } | null)?.namedCurve;
    const ours = format === 'jwk' && nameOf(algorithm) === 'ECDSA' && typeof curve === 'string' && curves.has(curve)
      && jwk.kty === 'EC' && jwk.crv === curve && jwk.d === undefined && !extractable
      && usages.length === 1 && usages[0] === 'verify';
    if (!ours) return platform.subtle.importKey(format as never, keyData as never, algorithm as never, extractable, usages as never);
    try {
      // Checks, as WebCrypto's import does, that the point is on the curve.
      const keyObject = createPublicKey({ key: { kty: 'EC', crv: curve, x: jwk.x, y: jwk.y }, format: 'jwk' });
      return Promise.resolve(new NodeEcdsaKey(keyObject, { name: 'ECDSA', namedCurve: curve }));
    } catch (error) {
      return Promise.reject(error);
    }
  },

  verify(algorithm: unknown, key: unknown, signature: BufferSource, data: BufferSource): Promise<boolean> {
    if (!(key instanceof NodeEcdsaKey)) return platform.subtle.verify(algorithm as never, key as never, signature as never, data as never);
    if (nameOf(algorithm) !== 'ECDSA') return Promise.reject(new DOMException('The requested operation is not valid for the provided key', 'InvalidAccessError'));
    const hash = hashes[nameOf((algorithm as { hash?: unknown }).hash) ?? ''];
    if (!hash) return Promise.reject(new DOMException('Unrecognized hash name', 'NotSupportedError'));
    try {
      return Promise.resolve(nodeVerify(hash, bytesOf(data), { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, bytesOf(signature)));
    } catch {
      // A signature of the wrong length: WebCrypto answers false.
      return Promise.resolve(false);
    }
  },
};

/**
 * The Crypto handed to SimpleWebAuthn: what it calls (getRandomValues, and subtle's digest, importKey and verify), by
 * node:crypto where said above, else by the platform's.
 */
export const nodeWebCrypto = {
  getRandomValues: <T extends ArrayBufferView | null>(array: T): T => platform.getRandomValues(array as never) as T,
  subtle,
};

async function install(): Promise<boolean> {
  try {
    const entry = import.meta.resolve('@simplewebauthn/server');
    const module = (await import(new URL('./helpers/iso/isoCrypto/getWebCrypto.js', entry).href)) as {
      _getWebCryptoInternals?: { setCachedCrypto?: (crypto: unknown) => void };
    };
    const set = module._getWebCryptoInternals?.setCachedCrypto;
    if (typeof set !== 'function') return false;
    set(nodeWebCrypto);
    return true;
  } catch {
    return false;
  }
}

/** Whether SimpleWebAuthn verifies through nodeWebCrypto (false: through globalThis.crypto, as it would by itself). */
export const nodeWebCryptoInstalled: boolean = await install();
