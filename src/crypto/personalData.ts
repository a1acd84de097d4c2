// Personal data sealing (issue 14 item 0): each person's data is AES-256-GCM ciphertext under a data key of their own,
// kept outside the events (personal_data_keys), itself wrapped by the server keys. Destroying the key erases the person
// from every event that holds their data while the events, and every hash over them, stay as they were.
//
// An envelope names its subject and its label (`<EventType>.<field>`, or `metadata.<field>`), both bound into the
// associated data, so a ciphertext copied into another person's event or another field does not open there:
//   pd1.<b64url subject>.<b64url label>.<b64url iv>.<b64url ciphertext>.<b64url tag>
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { LoadedSecretKeys, SecretBox } from './secretBox.js';
import { canonicalAddress, networkOf } from './pseudonyms.js';

const PREFIX = 'pd1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export function isSealedValue(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(`${PREFIX}.`);
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

function associatedData(subject: string, label: string): Buffer {
  return Buffer.from(`tessera personal data\n${subject}\n${label}`, 'utf8');
}

export function sealValue(key: Buffer, subject: string, label: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(subject, label));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const b = (x: Buffer | string): string => Buffer.from(x).toString('base64url');
  return [PREFIX, b(subject), b(label), b(iv), b(ciphertext), b(cipher.getAuthTag())].join('.');
}

/** Whose key opens an envelope, without opening it; null when it is not one. */
export function envelopeSubject(sealed: string): string | null {
  const parts = sealed.split('.');
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  return Buffer.from(parts[1]!, 'base64url').toString('utf8');
}

/** The plaintext, or null when the envelope is malformed or does not authenticate under this key (never throws). */
export function openValue(key: Buffer, sealed: string): string | null {
  const parts = sealed.split('.');
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  const [, subject, label, iv, ciphertext, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(subject.toString('utf8'), label.toString('utf8')));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/** A data key as stored: wrapped by the server's secret box, bound to its subject. */
export function wrapDataKey(box: SecretBox, subject: string, key: Buffer): string {
  return box.seal(key.toString('base64'), `personal-data-key:${subject}`);
}

export function unwrapDataKey(box: SecretBox, subject: string, wrapped: string): Buffer {
  return Buffer.from(box.open(wrapped, `personal-data-key:${subject}`), 'base64');
}

/**
 * Keyed pseudonyms (HMAC-SHA256 under keys derived from the server keys, each purpose its own HKDF label): what a
 * lookup needs (an email's owner, the events from one address) without the value itself. Unlike a plain SHA-256,
 * nobody without the server key can confirm a guessed address against them.
 */
export interface PersonalDataHashes {
  /** `email-<this>` is the email's claim stream; also the users projection's lookup column. */
  email(normalizedEmail: string): string;
  /** The pseudonym of a client address (events' metadata.ipHash, the audit filter, the logs). */
  address(ip: string): string;
  /** The pseudonym of the network (/24 for IPv4, /64 for IPv6) an address belongs to (metadata.networkHash); null if none. */
  network(ip: string): string | null;
  userAgent(userAgent: string): string;
}

export const EMAIL_KEY_PURPOSE = 'email stream ids';
export const ADDRESS_KEY_PURPOSE = 'address pseudonyms';

/**
 * A request's address and user agent are pseudonymized for every event it writes, and the same few come back request
 * after request: each pseudonym is computed once (an HMAC set up from scratch each time) and kept, a bounded number.
 */
function computedOncePerValue<T>(pseudonym: (value: string) => T, bound = 4096): (value: string) => T {
  const known = new Map<string, T>();
  return (value) => {
    let out = known.get(value);
    if (out === undefined && !known.has(value)) {
      out = pseudonym(value);
      if (known.size >= bound) known.clear();
      known.set(value, out);
    }
    return out as T;
  };
}

export function createPersonalDataHashes(keys: Pick<LoadedSecretKeys, 'deriveKey'>): PersonalDataHashes {
  // Derived from the current key: rotating the server keys changes every pseudonym, so keep the old key current until
  // a conversion rewrites them (README: known limits).
  const emailKey = keys.deriveKey(EMAIL_KEY_PURPOSE);
  const addressKey = keys.deriveKey(ADDRESS_KEY_PURPOSE);
  const mac = (key: Buffer, label: string, value: string, chars: number): string =>
    createHmac('sha256', key).update(`${label}\n${value}`).digest('hex').slice(0, chars);
  return {
    email: (email) => mac(emailKey, 'email', email, 64),
    // Canonical spelling first, so `::ffff:10.0.0.1` and `10.0.0.1` are one client.
    address: computedOncePerValue((ip) => mac(addressKey, 'ip', canonicalAddress(ip) ?? ip, 32)),
    network: computedOncePerValue((ip) => {
      const canonical = canonicalAddress(ip);
      const network = canonical === null ? null : networkOf(canonical);
      return network === null ? null : mac(addressKey, 'network', network, 32);
    }),
    userAgent: computedOncePerValue((ua) => mac(addressKey, 'ua', ua, 32)),
  };
}
