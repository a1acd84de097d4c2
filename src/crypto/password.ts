// Password hashing (argon2id, OWASP parameters) and the sign-up policy (NIST SP 800-63B §5.1.1.2).
import { availableParallelism } from 'node:os';
import type { Algorithm } from '@node-rs/argon2';
import { COMMON_PASSWORDS } from './commonPasswords.js';
import { createHashWorkers } from './hashWorkers.js';

export interface PasswordHashParams {
  /** KiB of memory per hash. */
  readonly memoryCost: number;
  /** Passes over the memory. */
  readonly timeCost: number;
  /** Lanes. */
  readonly parallelism: number;
}

/** OWASP's argon2id baseline: m=19 MiB, t=2, p=1. */
export const DEFAULT_PASSWORD_HASH_PARAMS: PasswordHashParams = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});

export interface PasswordVerification {
  readonly valid: boolean;
  /** The password was right and its stored hash is weaker than the configured parameters: store a new hash. */
  readonly needsRehash: boolean;
}

export interface PasswordHasher {
  readonly params: PasswordHashParams;
  hash(password: string): Promise<string>;
  verify(phc: string, password: string): Promise<PasswordVerification>;
  /**
   * Spends the cost of one verification and fails. Called when the account does not exist, so an unknown email
   * takes as long as a wrong password and response times do not reveal which emails are registered.
   */
  verifyDummy(password: string): Promise<false>;
  /** Hashes computing now and hashes waiting for a turn (what /metrics shows). */
  usage(): { running: number; waiting: number };
  /** Stops the hashing threads (the app's close). */
  close(): Promise<void>;
}

export interface PasswordHasherOptions {
  /**
   * At most this many hashes compute at once, each on a thread of its own (hashWorkers.ts); the others wait their turn
   * in arrival order. Default: one per CPU core. Each hash keeps one core busy for its whole run (p=1), so more at once
   * only adds context switches and evictions of each other's 19 MiB from the caches: measured on 2 cores, 4 concurrent
   * verifies cost 12.5–15 ms of CPU each against 10–11 ms at 2.
   */
  readonly concurrency?: number;
}

/**
 * Counts of argon2 work done in this process. Tests assert on them (the dummy path ran) instead of on timing;
 * they can also feed metrics.
 */
export const passwordHashMetrics = {
  hashes: 0,
  verifications: 0,
  dummyVerifications: 0,
};

export type PasswordPolicyViolation = 'TOO_SHORT' | 'TOO_LONG' | 'TOO_COMMON';

export const MIN_PASSWORD_CODE_POINTS = 8;
export const MAX_PASSWORD_CODE_POINTS = 256;

// @node-rs/argon2 declares Algorithm as an ambient const enum, and its runtime export is an empty object, so
// `Algorithm.Argon2id` is undefined under tsx/esbuild (and not allowed under isolatedModules). Spell the value out.
const ARGON2ID: Algorithm = 2;
// NFC merges at most four code points into one (the longest canonical decomposition) and a code point is at most
// two UTF-16 units, so input longer than this cannot come back under 256 code points: refuse it without normalizing
// megabytes.
const MAX_PASSWORD_UTF16_UNITS = MAX_PASSWORD_CODE_POINTS * 16;
const PHC_PATTERN = /^\$(argon2id|argon2i|argon2d)\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const ARGON2_VERSION_1_3 = 19;

export function createPasswordHasher(params: Partial<PasswordHashParams> = {}, hasherOptions: PasswordHasherOptions = {}): PasswordHasher {
  const resolved: PasswordHashParams = Object.freeze({ ...DEFAULT_PASSWORD_HASH_PARAMS, ...params });
  const options = { ...resolved, algorithm: ARGON2ID };
  const threads = createHashWorkers(hasherOptions.concurrency ?? availableParallelism());
  // Made on first use, not at import (no work at import time); kept as a promise so concurrent first calls share it.
  let dummyHash: Promise<string> | undefined;

  async function hash(password: string): Promise<string> {
    passwordHashMetrics.hashes++;
    return threads.run({ op: 'hash', password: normalizePassword(password), options });
  }

  async function verify(phc: string, password: string): Promise<PasswordVerification> {
    const stored = parsePhc(phc);
    if (stored === null) {
      // A corrupt stored hash is a data fault to surface, not a wrong password to count against the user.
      throw new Error('stored password hash is not an argon2 PHC string');
    }
    if (password.length > MAX_PASSWORD_UTF16_UNITS) {
      // No stored password can be this long (the policy caps it); skip hashing an attacker's megabytes.
      return { valid: false, needsRehash: false };
    }
    passwordHashMetrics.verifications++;
    const valid = await threads.run({ op: 'verify', phc, password: normalizePassword(password) });
    return { valid, needsRehash: valid && isWeakerThan(stored, resolved) };
  }

  async function verifyDummy(password: string): Promise<false> {
    dummyHash ??= threads.run({ op: 'hash', password: 'tessera dummy password for unknown accounts', options });
    const phc = await dummyHash;
    // Same early refusal as verify(), so the dummy path is no slower than the real one for oversized input.
    if (password.length > MAX_PASSWORD_UTF16_UNITS) return false;
    passwordHashMetrics.dummyVerifications++;
    await threads.run({ op: 'verify', phc, password: normalizePassword(password) });
    return false;
  }

  return { params: resolved, hash, verify, verifyDummy, usage: threads.usage, close: threads.close };
}

/**
 * Returns why a new password is refused, or null. NIST SP 800-63B: at least 8 and at most 256 characters (code
 * points after NFC, so a character typed as base + combining mark counts once), no composition rules, and not a
 * commonly used password (compared case-insensitively: "Password123" is as guessable as "password123").
 */
export function checkPasswordPolicy(password: string): PasswordPolicyViolation | null {
  if (password.length > MAX_PASSWORD_UTF16_UNITS) return 'TOO_LONG';
  const normalized = normalizePassword(password);
  const codePoints = countCodePoints(normalized);
  if (codePoints < MIN_PASSWORD_CODE_POINTS) return 'TOO_SHORT';
  if (codePoints > MAX_PASSWORD_CODE_POINTS) return 'TOO_LONG';
  if (commonPasswords().has(normalized.toLowerCase())) return 'TOO_COMMON';
  return null;
}

// NFC before hashing and checking, so the same password typed on systems that compose differently (macOS input
// often yields decomposed forms) hashes the same.
function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

let commonPasswordSet: ReadonlySet<string> | undefined;
function commonPasswords(): ReadonlySet<string> {
  commonPasswordSet ??= new Set(COMMON_PASSWORDS);
  return commonPasswordSet;
}

interface PhcParams extends PasswordHashParams {
  readonly algorithm: string;
  readonly version: number;
}

function parsePhc(phc: string): PhcParams | null {
  const match = PHC_PATTERN.exec(phc);
  if (match === null) return null;
  const [algorithm = '', version, memoryCost, timeCost, parallelism] = match.slice(1);
  return {
    algorithm,
    version: Number(version),
    memoryCost: Number(memoryCost),
    timeCost: Number(timeCost),
    parallelism: Number(parallelism),
  };
}

function isWeakerThan(stored: PhcParams, wanted: PasswordHashParams): boolean {
  return (
    stored.algorithm !== 'argon2id' ||
    stored.version !== ARGON2_VERSION_1_3 ||
    stored.memoryCost < wanted.memoryCost ||
    stored.timeCost < wanted.timeCost ||
    stored.parallelism < wanted.parallelism
  );
}
