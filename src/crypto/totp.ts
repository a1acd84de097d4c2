// TOTP (RFC 6238) on top of otplib. otplib computes the HOTP values; this wrapper decides which time steps are
// candidates and reports the step that matched, because replay protection (RFC 6238 §5.2: never accept a step at
// or before the last accepted one) is a domain decision that needs the step, not a boolean.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { generateSync } from 'otplib';

// otplib's own node:crypto plugin: its default (@noble/hashes) computes HMAC-SHA1 in JavaScript, a few times slower,
// and a login's MFA step computes three of them (the window). Synchronous, so a code costs no promise either.
const nodeCrypto = new NodeCryptoPlugin();

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type TotpDigits = 6 | 8;

/**
 * A TOTP secret: a base32 string (what authenticator apps and our storage use), or raw bytes (the RFC 6238 test
 * vectors are ASCII secrets that are not base32).
 */
export type TotpSecret = string | { readonly bytes: Uint8Array };

export interface TotpParameters {
  readonly algorithm?: TotpAlgorithm;
  readonly digits?: TotpDigits;
  /** Length of one time step in seconds. */
  readonly period?: number;
}

export interface MatchTotpStepInput extends TotpParameters {
  readonly secret: TotpSecret;
  readonly code: string;
  /** The caller's clock in milliseconds since the Unix epoch; injected so tests and deciders control time. */
  readonly nowMs: number;
  /** How many steps either side of the current one are accepted (clock drift and typing time). Default 1. */
  readonly window?: number;
}

export interface GenerateTotpCodeInput extends TotpParameters {
  readonly secret: TotpSecret;
  readonly nowMs: number;
}

const DEFAULT_PERIOD_SECONDS = 30;
const DEFAULT_DIGITS: TotpDigits = 6;
const DEFAULT_ALGORITHM: TotpAlgorithm = 'sha1';
const DEFAULT_WINDOW = 1;
// A wider window makes guessing easier (each extra step is another valid code); refuse silly configurations.
const MAX_WINDOW = 10;
// 160 bits: the HMAC-SHA1 block output size, as RFC 4226 §4 recommends.
const SECRET_BYTES = 20;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
// Only ASCII digits: \d would be ASCII-only in JS too, but spelling it out documents that full-width or other
// Unicode digits are refused, not normalized.
const ASCII_DIGITS = /^[0-9]+$/;

/** A new TOTP seed: 160 random bits, RFC 4648 base32 without padding (32 characters). */
export function generateTotpSecret(): string {
  return encodeBase32(randomBytes(SECRET_BYTES));
}

/** RFC 4648 base32 (upper case, no padding). */
export function encodeBase32(bytes: Uint8Array): string {
  let output = '';
  let buffer = 0;
  let bitCount = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bitCount += 8;
    while (bitCount >= 5) {
      output += BASE32_ALPHABET[(buffer >>> (bitCount - 5)) & 31];
      bitCount -= 5;
    }
    // Keep only the bits not yet written, so the number never grows past 32 bits.
    buffer &= (1 << bitCount) - 1;
  }
  if (bitCount > 0) output += BASE32_ALPHABET[(buffer << (5 - bitCount)) & 31];
  return output;
}

/**
 * The otpauth:// URI that authenticator apps read from the QR code (Google's Key Uri Format). The parameters the
 * apps default to are still written out, because some apps misbehave when they are missing.
 */
export function totpUrl(input: { issuer: string; accountName: string; secret: string }): string {
  const issuer = encodeURIComponent(input.issuer);
  const account = encodeURIComponent(input.accountName);
  const secret = encodeURIComponent(input.secret);
  return (
    `otpauth://totp/${issuer}:${account}?secret=${secret}&issuer=${issuer}` +
    `&algorithm=SHA1&digits=${DEFAULT_DIGITS}&period=${DEFAULT_PERIOD_SECONDS}`
  );
}

/** The absolute time step (floor(unixSeconds / period)) for a clock reading in milliseconds. */
export function totpStepAt(nowMs: number, period: number = DEFAULT_PERIOD_SECONDS): number {
  // Integer milliseconds divided by integer milliseconds: no floating-point drift at step boundaries.
  return Math.floor(nowMs / (period * 1000));
}

/** The code for the step that contains nowMs. */
export async function generateTotpCode(input: GenerateTotpCodeInput): Promise<string> {
  const period = input.period ?? DEFAULT_PERIOD_SECONDS;
  return codeForStep(input.secret, totpStepAt(input.nowMs, period), input);
}

/**
 * Returns the absolute time step whose code equals `code` within ±window steps of nowMs, or null.
 *
 * Every candidate step is computed and compared in constant time, whether or not an earlier one matched, so the
 * response time does not reveal which step (if any) a guess hit. Malformed codes are refused before any HMAC: they
 * cannot match, and refusing them early costs an attacker nothing they could learn from.
 * If two steps in the window share the same code (a 1-in-10^6 coincidence), the latest one is reported, so a fresh
 * code is not mistaken for a replay of an earlier, already-used step.
 */
export async function matchTotpStep(input: MatchTotpStepInput): Promise<number | null> {
  const digits = input.digits ?? DEFAULT_DIGITS;
  const period = input.period ?? DEFAULT_PERIOD_SECONDS;
  const window = input.window ?? DEFAULT_WINDOW;
  if (!Number.isInteger(window) || window < 0 || window > MAX_WINDOW) {
    throw new RangeError(`TOTP window must be an integer between 0 and ${MAX_WINDOW}`);
  }
  const code = input.code;
  // Length first: a megabyte of input is dismissed without running a regular expression over it.
  if (typeof code !== 'string' || code.length !== digits || !ASCII_DIGITS.test(code)) return null;

  const submitted = Buffer.from(code, 'ascii');
  const currentStep = totpStepAt(input.nowMs, period);
  let matchedStep: number | null = null;
  for (let step = currentStep - window; step <= currentStep + window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(codeForStep(input.secret, step, input), 'ascii');
    // Lengths are equal by construction (both are `digits` ASCII digits), as timingSafeEqual requires.
    if (timingSafeEqual(expected, submitted)) matchedStep = step;
  }
  return matchedStep;
}

function codeForStep(secret: TotpSecret, step: number, parameters: TotpParameters): string {
  const period = parameters.period ?? DEFAULT_PERIOD_SECONDS;
  return generateSync({
    crypto: nodeCrypto,
    // otplib decodes a string as base32; bytes are copied into a plain Uint8Array so a Buffer's pooled memory
    // outside its view can never be read.
    secret: typeof secret === 'string' ? secret : Uint8Array.from(secret.bytes),
    algorithm: parameters.algorithm ?? DEFAULT_ALGORITHM,
    digits: parameters.digits ?? DEFAULT_DIGITS,
    period,
    // The first second of the step: otplib derives the counter as floor(epoch / period).
    epoch: step * period,
  });
}
