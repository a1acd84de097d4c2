// Recovery codes: single-use fallbacks that people copy from paper or a password manager, so they are written for
// reading aloud and retyping. Only their HMAC is stored: a leaked event log does not hand out working codes, and
// the keyed hash (not a bare SHA-256) stops an offline guess against the log without the server key.
import { createHmac, randomInt } from 'node:crypto';

/**
 * The 31 characters a code is made of: the digits 2–9 and the lower-case letters without i, l and o.
 * 0/o and 1/i/l are left out because they are mistaken for each other on paper and in many fonts. That leaves 31
 * symbols, not 32 (removing five look-alikes from 36 cannot give a power of two), so characters are drawn with
 * crypto.randomInt, which is uniform for any alphabet size.
 */
export const RECOVERY_CODE_ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
/** Characters per code: 16 × log2(31) ≈ 79 bits of entropy, above the 64-bit floor. */
export const RECOVERY_CODE_LENGTH = 16;
export const DEFAULT_RECOVERY_CODE_COUNT = 10;

const GROUP_SIZE = 4;
// Anything longer than a code with generous separators is not a code; refuse it before any string work.
const MAX_INPUT_LENGTH = 64;
const SEPARATORS = /[\s-]/g;
const NORMALIZED_PATTERN = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{${RECOVERY_CODE_LENGTH}}$`);

/** Fresh codes for display, e.g. `7kq2-mx9d-tp4w-h3ne`; distinct within the batch. */
export function generateRecoveryCodes(count: number = DEFAULT_RECOVERY_CODE_COUNT): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new RangeError('recovery code count must be an integer between 1 and 100');
  }
  const codes = new Set<string>();
  // A repeat is astronomically unlikely at 79 bits, but a duplicate would be one code counted twice: redraw.
  while (codes.size < count) codes.add(formatRecoveryCode(randomCode()));
  return [...codes];
}

/**
 * The canonical form used for hashing: lower case, no spaces or dashes. Returns null for anything that is not
 * exactly 16 characters of the alphabet. Input is matched ASCII-only before lower-casing, so Unicode that lower-cases
 * into ASCII (the Kelvin sign K → k) is refused rather than silently accepted.
 */
export function normalizeRecoveryCode(input: string): string | null {
  if (typeof input !== 'string' || input.length > MAX_INPUT_LENGTH) return null;
  const compact = input.replace(SEPARATORS, '');
  if (!/^[A-Za-z0-9]*$/.test(compact)) return null;
  const lower = compact.toLowerCase();
  return NORMALIZED_PATTERN.test(lower) ? lower : null;
}

/** HMAC-SHA-256 (hex) of a normalized code under the recovery-code key. Store only this. */
export function hashRecoveryCode(key: Buffer, normalizedCode: string): string {
  // Hashing a display form would store a hash that no normalized submission ever matches: fail loudly instead.
  if (!NORMALIZED_PATTERN.test(normalizedCode)) {
    throw new TypeError('hashRecoveryCode expects a code from normalizeRecoveryCode');
  }
  return createHmac('sha256', key).update(normalizedCode, 'utf8').digest('hex');
}

function randomCode(): string {
  let code = '';
  for (let i = 0; i < RECOVERY_CODE_LENGTH; i++) code += RECOVERY_CODE_ALPHABET[randomInt(RECOVERY_CODE_ALPHABET.length)];
  return code;
}

function formatRecoveryCode(code: string): string {
  const groups: string[] = [];
  for (let i = 0; i < code.length; i += GROUP_SIZE) groups.push(code.slice(i, i + GROUP_SIZE));
  return groups.join('-');
}
