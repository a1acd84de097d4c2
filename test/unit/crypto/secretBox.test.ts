import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSecretBox,
  loadSecretKeys,
  RECOVERY_CODES_KEY_PURPOSE,
  SecretBoxError,
  SecretKeyConfigError,
  type SecretKey,
} from '../../../src/crypto/secretBox.js';

const oldKey: SecretKey = { id: 'k1', key: randomBytes(32) };
const newKey: SecretKey = { id: 'k2', key: randomBytes(32) };
const seed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const aad = 'totp:user-1';

function errorCodeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretBoxError);
    return (error as SecretBoxError).code;
  }
  throw new Error('expected the action to throw');
}

// Flips one character of one base64url part so the part stays well-formed but its bytes change.
function tamperPart(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const part = parts[index] as string;
  const first = part[0] === 'A' ? 'B' : 'A';
  parts[index] = first + part.slice(1);
  return parts.join('.');
}

describe('createSecretBox', () => {
  const box = createSecretBox({ keys: [oldKey], currentKeyId: 'k1' });

  it('round-trips a secret and uses a fresh IV each time', () => {
    const a = box.seal(seed, aad);
    const b = box.seal(seed, aad);
    expect(a).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(seed);
    expect(box.open(a, aad)).toBe(seed);
    expect(box.open(b, aad)).toBe(seed);
    expect(box.open(box.seal('', aad), aad)).toBe('');
  });

  it('refuses a tampered IV, ciphertext or tag', () => {
    const sealed = box.seal(seed, aad);
    for (const index of [2, 3, 4]) {
      expect(errorCodeOf(() => box.open(tamperPart(sealed, index), aad))).toBe('SECRET_BOX_AUTHENTICATION_FAILED');
    }
  });

  it('refuses a ciphertext moved to another purpose or user (associated data)', () => {
    const sealed = box.seal(seed, aad);
    expect(errorCodeOf(() => box.open(sealed, 'totp:user-2'))).toBe('SECRET_BOX_AUTHENTICATION_FAILED');
  });

  it('refuses malformed envelopes', () => {
    const sealed = box.seal(seed, aad);
    expect(errorCodeOf(() => box.open('', aad))).toBe('SECRET_BOX_MALFORMED');
    expect(errorCodeOf(() => box.open(sealed.replace(/^v1/, 'v2'), aad))).toBe('SECRET_BOX_MALFORMED');
    expect(errorCodeOf(() => box.open(sealed.slice(0, -2), aad))).toBe('SECRET_BOX_MALFORMED'); // short tag
    expect(errorCodeOf(() => box.open(`${sealed}.extra`, aad))).toBe('SECRET_BOX_MALFORMED');
  });

  it('refuses an unknown key id', () => {
    const other = createSecretBox({ keys: [newKey], currentKeyId: 'k2' });
    expect(errorCodeOf(() => box.open(other.seal(seed, aad), aad))).toBe('SECRET_BOX_UNKNOWN_KEY');
  });

  it('after rotation seals with the new key and still opens ciphertexts of the old one', () => {
    const before = box.seal(seed, aad);
    const rotated = createSecretBox({ keys: [oldKey, newKey], currentKeyId: 'k2' });
    expect(rotated.currentKeyId).toBe('k2');
    const after = rotated.seal(seed, aad);
    expect(after.startsWith('v1.k2.')).toBe(true);
    expect(rotated.open(before, aad)).toBe(seed);
    expect(rotated.open(after, aad)).toBe(seed);
  });

  it('refuses an envelope relabelled with another key id', () => {
    const sameKeyTwoIds = createSecretBox({ keys: [oldKey, { id: 'k9', key: oldKey.key }], currentKeyId: 'k1' });
    const relabelled = sameKeyTwoIds.seal(seed, aad).replace(/^v1\.k1\./, 'v1.k9.');
    expect(errorCodeOf(() => sameKeyTwoIds.open(relabelled, aad))).toBe('SECRET_BOX_AUTHENTICATION_FAILED');
  });

  it('refuses a key of the wrong size or a current key id that is not listed', () => {
    expect(() => createSecretBox({ keys: [{ id: 'k1', key: randomBytes(16) }], currentKeyId: 'k1' })).toThrow(
      SecretKeyConfigError,
    );
    expect(() => createSecretBox({ keys: [oldKey], currentKeyId: 'k2' })).toThrow(SecretKeyConfigError);
  });
});

describe('loadSecretKeys', () => {
  const dirs: string[] = [];
  function tempDataDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
    dirs.push(dir);
    return join(dir, 'data'); // not yet created: the loader must create it
  }
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const envKeys = `k1:${oldKey.key.toString('base64')}, k2:${newKey.key.toString('base64')}`;

  it('reads keys from TESSERA_SECRET_KEYS, the last listed being current by default', () => {
    const loaded = loadSecretKeys({ env: { TESSERA_SECRET_KEYS: envKeys }, dataDir: tempDataDir() });
    expect(loaded.source).toBe('env');
    expect(loaded.currentKeyId).toBe('k2');
    expect(loaded.keys.map((k) => k.id)).toEqual(['k1', 'k2']);
    expect(loaded.keys[0]?.key.equals(oldKey.key)).toBe(true);
  });

  it('honours TESSERA_SECRET_KEY_ID and refuses an id that is not listed', () => {
    const env = { TESSERA_SECRET_KEYS: envKeys, TESSERA_SECRET_KEY_ID: 'k1' };
    expect(loadSecretKeys({ env, dataDir: tempDataDir() }).currentKeyId).toBe('k1');
    expect(() =>
      loadSecretKeys({ env: { ...env, TESSERA_SECRET_KEY_ID: 'k3' }, dataDir: tempDataDir() }),
    ).toThrow(SecretKeyConfigError);
  });

  it('refuses keys that are not exactly 32 bytes, without echoing the key', () => {
    const short = randomBytes(31).toString('base64');
    let message = '';
    try {
      loadSecretKeys({ env: { TESSERA_SECRET_KEYS: `k1:${short}` }, dataDir: tempDataDir() });
    } catch (error) {
      expect(error).toBeInstanceOf(SecretKeyConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('k1');
    expect(message).not.toContain(short);
    expect(() => loadSecretKeys({ env: { TESSERA_SECRET_KEYS: 'no-colon' }, dataDir: tempDataDir() })).toThrow(
      SecretKeyConfigError,
    );
  });

  it('in production without keys throws a clear error and writes no file', () => {
    const dataDir = tempDataDir();
    expect(() => loadSecretKeys({ env: { NODE_ENV: 'production' }, dataDir })).toThrow(/TESSERA_SECRET_KEYS/);
    expect(() => statSync(join(dataDir, 'secret-keys.json'))).toThrow();
  });

  it('outside production creates a 0600 dev key file once and reuses it', () => {
    const dataDir = tempDataDir();
    const first = loadSecretKeys({ env: {}, dataDir });
    const file = join(dataDir, 'secret-keys.json');
    expect(first.source).toBe('dev-file');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const contents = readFileSync(file, 'utf8');

    const second = loadSecretKeys({ env: { NODE_ENV: 'development' }, dataDir });
    expect(readFileSync(file, 'utf8')).toBe(contents);
    expect(second.currentKeyId).toBe(first.currentKeyId);
    expect(second.keys[0]?.key.equals(first.keys[0]?.key as Buffer)).toBe(true);

    // What was sealed before the restart opens after it.
    const sealed = createSecretBox(first).seal(seed, aad);
    expect(createSecretBox(second).open(sealed, aad)).toBe(seed);
  });

  it('derives separate, stable purpose keys per configured key', () => {
    const env = { TESSERA_SECRET_KEYS: envKeys };
    const a = loadSecretKeys({ env, dataDir: tempDataDir() });
    const b = loadSecretKeys({ env, dataDir: tempDataDir() });
    const recovery = a.deriveKey(RECOVERY_CODES_KEY_PURPOSE);
    expect(recovery).toHaveLength(32);
    expect(recovery.equals(b.deriveKey(RECOVERY_CODES_KEY_PURPOSE))).toBe(true);
    expect(recovery.equals(newKey.key)).toBe(false);
    expect(recovery.equals(a.deriveKey('something else'))).toBe(false);
    expect(recovery.equals(a.deriveKey(RECOVERY_CODES_KEY_PURPOSE, 'k1'))).toBe(false);
    expect(recovery.equals(a.deriveKey(RECOVERY_CODES_KEY_PURPOSE, 'k2'))).toBe(true);
  });
});
