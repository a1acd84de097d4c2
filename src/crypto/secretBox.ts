// Envelope for secrets that must be stored but never in clear (TOTP seeds): AES-256-GCM under a server key that has
// an id, so keys can rotate — new data is sealed with the current key while older ciphertexts name the key that
// opens them. The associated data binds a ciphertext to its purpose and owner (`totp:<userId>`), so a seed copied
// into another user's stream does not open there.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretKey {
  readonly id: string;
  readonly key: Buffer;
}

export interface SecretBox {
  /** Encrypts with the current key: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts). */
  seal(plaintext: string, associatedData: string): string;
  /** Decrypts with the key the envelope names; throws SecretBoxError when it cannot prove the data is authentic. */
  open(sealed: string, associatedData: string): string;
  readonly currentKeyId: string;
}

export type SecretBoxErrorCode = 'SECRET_BOX_MALFORMED' | 'SECRET_BOX_UNKNOWN_KEY' | 'SECRET_BOX_AUTHENTICATION_FAILED';

/** A sealed value could not be opened. The message never contains key material or plaintext. */
export class SecretBoxError extends Error {
  readonly code: SecretBoxErrorCode;

  constructor(code: SecretBoxErrorCode, message: string) {
    super(message);
    this.name = 'SecretBoxError';
    this.code = code;
  }
}

export type SecretKeyConfigErrorCode = 'SECRET_KEYS_MISSING' | 'SECRET_KEYS_INVALID';

/** The server keys are absent or badly configured; raised at start-up so the service refuses to run. */
export class SecretKeyConfigError extends Error {
  readonly code: SecretKeyConfigErrorCode;

  constructor(code: SecretKeyConfigErrorCode, message: string) {
    super(message);
    this.name = 'SecretKeyConfigError';
    this.code = code;
  }
}

const FORMAT_VERSION = 'v1';
const KEY_BYTES = 32; // AES-256
const IV_BYTES = 12; // 96 bits: the GCM nonce size that needs no extra hashing (NIST SP 800-38D)
const TAG_BYTES = 16;
// Key ids appear inside the envelope (dot-separated) and in the env list (colon-separated): keep them plain.
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;
const ALGORITHM = 'aes-256-gcm';

export function createSecretBox(options: { keys: readonly SecretKey[]; currentKeyId: string }): SecretBox {
  const keysById = indexKeys(options.keys);
  const currentKeyId = options.currentKeyId;
  const currentKey: Buffer = requireKey(keysById, currentKeyId);

  function seal(plaintext: string, associatedData: string): string {
    // A fresh random nonce per message: with 96-bit nonces the collision risk stays negligible for far more
    // messages than one key will ever seal, and GCM loses all security if a nonce repeats under one key.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, currentKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(currentKeyId, associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT_VERSION, currentKeyId, b64url(iv), b64url(ciphertext), b64url(tag)].join('.');
  }

  function open(sealed: string, associatedData: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5) throw new SecretBoxError('SECRET_BOX_MALFORMED', 'sealed value does not have 5 parts');
    const [version, keyId, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string];
    if (version !== FORMAT_VERSION) {
      throw new SecretBoxError('SECRET_BOX_MALFORMED', 'sealed value has an unknown format version');
    }
    const key = keysById.get(keyId);
    if (key === undefined) throw new SecretBoxError('SECRET_BOX_UNKNOWN_KEY', `no key with id "${keyId}"`);
    const iv = fromB64url(ivText);
    const ciphertext = fromB64url(ciphertextText);
    const tag = fromB64url(tagText);
    if (iv?.length !== IV_BYTES || ciphertext === null || tag?.length !== TAG_BYTES) {
      throw new SecretBoxError('SECRET_BOX_MALFORMED', 'sealed value has a malformed part');
    }
    try {
      // authTagLength pinned so a truncated tag cannot be accepted.
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(keyId, associatedData));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        'SECRET_BOX_AUTHENTICATION_FAILED',
        'sealed value failed authentication (tampered, wrong key or wrong associated data)',
      );
    }
  }

  return { seal, open, currentKeyId };
}

export interface LoadedSecretKeys {
  readonly keys: readonly SecretKey[];
  readonly currentKeyId: string;
  readonly source: 'env' | 'dev-file';
  /**
   * A 32-byte key for another purpose (HKDF-SHA256, info `tessera <purpose>`), so one configured secret serves
   * several uses without the uses being related. Derived from the current key unless a key id is given: whoever
   * stores something keyed by a derived key (recovery-code hashes) must record the key id and pass it back later,
   * or a rotation would make old hashes unverifiable.
   */
  deriveKey(purpose: string, keyId?: string): Buffer;
}

/** The HKDF purpose for the recovery-code HMAC key (info 'tessera recovery codes'). */
export const RECOVERY_CODES_KEY_PURPOSE = 'recovery codes';

const DEV_KEY_FILE = 'secret-keys.json';
const DEV_KEY_ID = 'dev1';

/**
 * Reads the server keys from TESSERA_SECRET_KEYS (`id:base64key,id:base64key`, each key 32 bytes) and
 * TESSERA_SECRET_KEY_ID (default: the last listed). Without them, outside production, a development key is
 * created once under dataDir and reused, so `npm start` works on a bare machine and keeps decrypting what it
 * stored. In production a missing key is fatal: a generated key would silently strand every stored seed.
 */
export function loadSecretKeys(options: { env: Readonly<Record<string, string | undefined>>; dataDir: string }): LoadedSecretKeys {
  const { env } = options;
  const listed = env.TESSERA_SECRET_KEYS?.trim() ?? '';
  const chosenId = env.TESSERA_SECRET_KEY_ID?.trim() ?? '';

  if (listed !== '') {
    const keys = parseKeyList(listed);
    const currentKeyId = chosenId === '' ? (keys[keys.length - 1] as SecretKey).id : chosenId;
    if (!keys.some((k) => k.id === currentKeyId)) {
      throw new SecretKeyConfigError(
        'SECRET_KEYS_INVALID',
        `TESSERA_SECRET_KEY_ID "${currentKeyId}" is not one of the ids in TESSERA_SECRET_KEYS`,
      );
    }
    return withDerivation(keys, currentKeyId, 'env');
  }
  if (chosenId !== '') {
    throw new SecretKeyConfigError('SECRET_KEYS_INVALID', 'TESSERA_SECRET_KEY_ID is set but TESSERA_SECRET_KEYS is not');
  }
  if (env.NODE_ENV === 'production') {
    throw new SecretKeyConfigError(
      'SECRET_KEYS_MISSING',
      'TESSERA_SECRET_KEYS must be set in production (comma-separated id:base64 entries, each key 32 bytes; ' +
        'e.g. k1:$(openssl rand -base64 32))',
    );
  }
  const devKey = loadOrCreateDevKey(options.dataDir);
  return withDerivation([devKey], devKey.id, 'dev-file');
}

function parseKeyList(listed: string): SecretKey[] {
  const keys: SecretKey[] = [];
  for (const entry of listed.split(',')) {
    const trimmed = entry.trim();
    const colon = trimmed.indexOf(':');
    const id = colon === -1 ? '' : trimmed.slice(0, colon);
    const encoded = colon === -1 ? '' : trimmed.slice(colon + 1);
    if (!KEY_ID_PATTERN.test(id)) {
      throw new SecretKeyConfigError(
        'SECRET_KEYS_INVALID',
        'TESSERA_SECRET_KEYS entries must be id:base64key with ids of letters, digits, _ or -',
      );
    }
    // The message names the id, never the key.
    const key = decodeBase64Strict(encoded);
    if (key?.length !== KEY_BYTES) {
      throw new SecretKeyConfigError('SECRET_KEYS_INVALID', `key "${id}" must be ${KEY_BYTES} bytes in base64`);
    }
    if (keys.some((k) => k.id === id)) {
      throw new SecretKeyConfigError('SECRET_KEYS_INVALID', `key id "${id}" is listed twice`);
    }
    keys.push({ id, key });
  }
  return keys;
}

function loadOrCreateDevKey(dataDir: string): SecretKey {
  const path = join(dataDir, DEV_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  const fresh = { id: DEV_KEY_ID, key: randomBytes(KEY_BYTES).toString('base64') };
  try {
    // 'wx' creates the file only if it does not exist, so two processes starting together cannot each write a
    // different key; mode 0600 because this file is the key to every seed in the dev database.
    writeFileSync(path, `${JSON.stringify({ keys: [fresh], currentKeyId: fresh.id }, null, 2)}\n`, {
      flag: 'wx',
      mode: 0o600,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readDevKeyFile(path);
}

function readDevKeyFile(path: string): SecretKey {
  const invalid = new SecretKeyConfigError('SECRET_KEYS_INVALID', `${path} is not a valid Tessera development key file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw invalid;
  }
  const file = parsed as { keys?: Array<{ id?: unknown; key?: unknown }>; currentKeyId?: unknown };
  const entry = file.keys?.find((k) => k.id === file.currentKeyId);
  if (entry === undefined || typeof entry.id !== 'string' || typeof entry.key !== 'string') throw invalid;
  const key = decodeBase64Strict(entry.key);
  if (!KEY_ID_PATTERN.test(entry.id) || key?.length !== KEY_BYTES) throw invalid;
  return { id: entry.id, key };
}

function withDerivation(keys: readonly SecretKey[], currentKeyId: string, source: 'env' | 'dev-file'): LoadedSecretKeys {
  const keysById = indexKeys(keys);
  // The keys never change once loaded, so each purpose's key is derived once (HKDF on every MAC was a notable part of
  // a notification's cost); each caller gets its own copy.
  const derived = new Map<string, Buffer>();
  function deriveKey(purpose: string, keyId: string = currentKeyId): Buffer {
    const id = `${keyId}\n${purpose}`;
    let out = derived.get(id);
    if (out === undefined) {
      const key = keysById.get(keyId);
      if (key === undefined) throw new SecretBoxError('SECRET_BOX_UNKNOWN_KEY', `no key with id "${keyId}"`);
      out = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `tessera ${purpose}`, KEY_BYTES));
      derived.set(id, out);
    }
    return Buffer.from(out);
  }
  return { keys, currentKeyId, source, deriveKey };
}

function requireKey(keysById: ReadonlyMap<string, Buffer>, keyId: string): Buffer {
  const key = keysById.get(keyId);
  if (key === undefined) {
    throw new SecretKeyConfigError('SECRET_KEYS_INVALID', `current key id "${keyId}" is not among the keys`);
  }
  return key;
}

function indexKeys(keys: readonly SecretKey[]): Map<string, Buffer> {
  const byId = new Map<string, Buffer>();
  for (const { id, key } of keys) {
    if (!KEY_ID_PATTERN.test(id)) throw new SecretKeyConfigError('SECRET_KEYS_INVALID', `invalid key id "${id}"`);
    if (key.length !== KEY_BYTES) {
      throw new SecretKeyConfigError('SECRET_KEYS_INVALID', `key "${id}" must be ${KEY_BYTES} bytes`);
    }
    if (byId.has(id)) throw new SecretKeyConfigError('SECRET_KEYS_INVALID', `key id "${id}" is listed twice`);
    // Copied so a caller that later zeroes or reuses its buffer cannot change the box's key.
    byId.set(id, Buffer.from(key));
  }
  return byId;
}

// The key id is part of the authenticated data, so an envelope relabelled with another key id cannot open.
function additionalData(keyId: string, associatedData: string): Buffer {
  return Buffer.from(`${FORMAT_VERSION}.${keyId}\n${associatedData}`, 'utf8');
}

function b64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

// Buffer.from(text, 'base64url') skips characters it does not know; refuse them instead.
function fromB64url(text: string): Buffer | null {
  return BASE64URL_PATTERN.test(text) ? Buffer.from(text, 'base64url') : null;
}

function decodeBase64Strict(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) && !BASE64URL_PATTERN.test(text)) return null;
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}
