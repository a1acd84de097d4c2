// Email one-time codes: drawn from the CSPRNG, kept only as HMAC-SHA-256 under a key derived from the server's secret
// keys (so a copy of the log or the database gives nobody the codes, and a 6-digit code cannot be brute-forced from
// its hash without the key), and compared in constant time.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/** The purpose string of the derived HMAC key (crypto/secretBox.ts deriveKey). */
export const EMAIL_CODE_KEY_PURPOSE = 'email-codes';

export function generateEmailCode(digits: number): string {
  if (!Number.isInteger(digits) || digits < 6 || digits > 8) throw new Error('an email code has 6 to 8 digits');
  return randomInt(0, 10 ** digits).toString().padStart(digits, '0');
}

/** Bound to the code's id, so equal codes issued twice never share a hash. */
export function hashEmailCode(key: Buffer, codeId: string, code: string): string {
  return createHmac('sha256', key).update(`${codeId}\u0000${code}`).digest('hex');
}

/** Digits only, spaces and dashes a user may type removed; anything else is no code. */
export function normalizeEmailCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '');
  return /^[0-9]{6,8}$/.test(code) ? code : null;
}

export function emailCodeMatches(key: Buffer, codeId: string, code: string, storedHash: string): boolean {
  const computed = Buffer.from(hashEmailCode(key, codeId, code), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return computed.length === stored.length && timingSafeEqual(computed, stored);
}
