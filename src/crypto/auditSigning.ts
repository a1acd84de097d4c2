// The Ed25519 key that signs audit checkpoints (node:crypto). Mirrors the secret keys (secretBox.ts): AUDIT_SIGNING_KEY
// in the environment, a development key generated once under the data directory, and a refusal to start in production
// without one, because a key generated at start-up would sign checkpoints nobody can check against a published key.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEV_KEY_FILE = 'audit-signing-key.pem';

export class AuditSigningKeyError extends Error {
  constructor(readonly code: 'AUDIT_SIGNING_KEY_MISSING' | 'AUDIT_SIGNING_KEY_INVALID', message: string) {
    super(message);
    this.name = 'AuditSigningKeyError';
  }
}

export interface CheckpointSigner {
  /** First 16 hex digits of SHA-256 over the public key (SPKI DER): names the key in each checkpoint. */
  keyId: string;
  publicKeyPem: string;
  sign(message: string): string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function signerFromPrivateKey(privateKey: KeyObject): CheckpointSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new AuditSigningKeyError('AUDIT_SIGNING_KEY_INVALID', 'AUDIT_SIGNING_KEY must be an Ed25519 private key');
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (message) => sign(null, Buffer.from(message, 'utf8'), privateKey).toString('base64'),
  };
}

/** PEM (PKCS#8) or base64 of the PKCS#8 DER. */
export function parsePrivateKey(text: string): KeyObject {
  try {
    const trimmed = text.trim();
    return trimmed.startsWith('-----BEGIN')
      ? createPrivateKey({ key: trimmed, format: 'pem' })
      : createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new AuditSigningKeyError('AUDIT_SIGNING_KEY_INVALID', 'AUDIT_SIGNING_KEY must be an Ed25519 private key, PEM or base64 PKCS#8');
  }
}

/** A public key as PEM (SPKI), or base64 of the SPKI DER. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  return trimmed.startsWith('-----BEGIN')
    ? createPublicKey({ key: trimmed, format: 'pem' })
    : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
}

export function verifySignature(publicKey: KeyObject, message: string, signatureBase64: string): boolean {
  try {
    return verify(null, Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

export function loadAuditSigner(options: { env: Readonly<Record<string, string | undefined>>; dataDir: string }): CheckpointSigner {
  const configured = options.env.AUDIT_SIGNING_KEY?.trim() ?? '';
  if (configured !== '') return signerFromPrivateKey(parsePrivateKey(configured));
  if (options.env.NODE_ENV === 'production') {
    throw new AuditSigningKeyError(
      'AUDIT_SIGNING_KEY_MISSING',
      'AUDIT_SIGNING_KEY must be set in production (an Ed25519 private key, PEM or base64 PKCS#8; ' +
        'e.g. openssl genpkey -algorithm ed25519)',
    );
  }
  const path = join(options.dataDir, DEV_KEY_FILE);
  mkdirSync(options.dataDir, { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    // 'wx': two processes starting together cannot each write a different key.
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return signerFromPrivateKey(parsePrivateKey(readFileSync(path, 'utf8')));
}
