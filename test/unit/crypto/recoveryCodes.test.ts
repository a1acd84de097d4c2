import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_LENGTH,
} from '../../../src/crypto/recoveryCodes.js';

describe('generateRecoveryCodes', () => {
  it('makes 10 distinct codes by default, grouped xxxx-xxxx-xxxx-xxxx in lower case', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  });

  it('draws only from the look-alike-free alphabet, with at least 64 bits per code', () => {
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(RECOVERY_CODE_ALPHABET.length);
    for (const lookAlike of ['0', 'o', '1', 'i', 'l']) expect(RECOVERY_CODE_ALPHABET).not.toContain(lookAlike);
    expect(RECOVERY_CODE_LENGTH * Math.log2(RECOVERY_CODE_ALPHABET.length)).toBeGreaterThanOrEqual(64);

    const seen = new Set<string>();
    for (const code of generateRecoveryCodes(100)) {
      const compact = code.replaceAll('-', '');
      expect(compact).toHaveLength(RECOVERY_CODE_LENGTH);
      for (const character of compact) {
        expect(RECOVERY_CODE_ALPHABET).toContain(character);
        seen.add(character);
      }
    }
    // 1,600 uniform draws from 31 symbols: every symbol appears (missing one has probability ~1e-21).
    expect(seen.size).toBe(RECOVERY_CODE_ALPHABET.length);
  });

  it('honours the count', () => {
    expect(generateRecoveryCodes(3)).toHaveLength(3);
    expect(() => generateRecoveryCodes(0)).toThrow(RangeError);
  });
});

describe('normalizeRecoveryCode', () => {
  const canonical = '7kq2mx9dtp4wh3ne';

  it.each([
    ['as displayed', '7kq2-mx9d-tp4w-h3ne'],
    ['upper case', '7KQ2-MX9D-TP4W-H3NE'],
    ['mixed case without dashes', '7Kq2mX9dTp4wH3nE'],
    ['with spaces', ' 7kq2 mx9d tp4w h3ne '],
    ['with spaces and dashes', '7kq2 - mx9d - tp4w - h3ne'],
  ])('accepts the code %s', (_name, input) => {
    expect(normalizeRecoveryCode(input)).toBe(canonical);
  });

  it('round-trips every generated code', () => {
    for (const code of generateRecoveryCodes()) expect(normalizeRecoveryCode(code)).toBe(code.replaceAll('-', ''));
  });

  it.each([
    ['empty', ''],
    ['one character short', '7kq2-mx9d-tp4w-h3n'],
    ['one character long', '7kq2-mx9d-tp4w-h3nee'],
    ['a zero', '7kq2-mx9d-tp4w-h30e'],
    ['a letter o', '7kq2-mx9d-tp4w-h3oe'],
    ['a one', '7kq2-mx9d-tp4w-h31e'],
    ['an i', '7kq2-mx9d-tp4w-h3ie'],
    ['an l', '7kq2-mx9d-tp4w-h3le'],
    ['an upper-case I', '7kq2-mx9d-tp4w-h3IE'],
    ['punctuation', '7kq2_mx9d_tp4w_h3ne'],
    ['the Kelvin sign for k', '7\u212Aq2-mx9d-tp4w-h3ne'],
    ['full-width letters', '７ｋｑ２ｍｘ９ｄｔｐ４ｗｈ３ｎｅ'],
    ['a megabyte', 'a'.repeat(1024 * 1024)],
  ])('refuses %s', (_name, input) => {
    expect(normalizeRecoveryCode(input)).toBeNull();
  });
});

describe('hashRecoveryCode', () => {
  const code = '7kq2mx9dtp4wh3ne';

  it('is deterministic per key and differs across keys and codes', () => {
    const key = randomBytes(32);
    const hash = hashRecoveryCode(key, code);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(Buffer.from(key), code)).toBe(hash);
    expect(hashRecoveryCode(randomBytes(32), code)).not.toBe(hash);
    expect(hashRecoveryCode(key, '7kq2mx9dtp4wh3nf')).not.toBe(hash);
    expect(hash).not.toContain(code);
  });

  it('is HMAC-SHA-256 of the normalized code', () => {
    const key = Buffer.alloc(32, 0x0b);
    // Computed outside Node: echo -n 7kq2mx9dtp4wh3ne | openssl dgst -sha256 -mac HMAC -macopt hexkey:0b…0b (32 bytes)
    expect(hashRecoveryCode(key, code)).toBe('281e9b2ca6a8748c0f9eea815cd2af7fdbca625df9d45f178bfa14d83824293c');
  });

  it('refuses a code that was not normalized', () => {
    expect(() => hashRecoveryCode(randomBytes(32), '7kq2-mx9d-tp4w-h3ne')).toThrow(TypeError);
    expect(() => hashRecoveryCode(randomBytes(32), '7KQ2MX9DTP4WH3NE')).toThrow(TypeError);
  });
});
