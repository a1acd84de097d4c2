// Account-recovery secrets (issue 17): emailed codes, link keys, the "this wasn't me" keys, and the signed tokens that
// carry a pending VERIFY_EMAIL or PASSWORD_RESET_BY_CODE flow. No code or key is ever at rest, in clear or sealed:
//   - a code or a link key is derived at send time from the server key and a random nonce recorded in the event
//     (HMAC-SHA256 under the key for 'account recovery'), so the mail worker can write it into the mail;
//   - what the events hold to check it is its keyed hash (HMAC-SHA256 under the key for 'account recovery hashes'),
//     with the id of the server key both were derived from, so a key rotation does not strand a pending code.
// Whoever reads the log without the server key learns neither the codes nor the keys.
import { createHmac, randomBytes } from 'node:crypto';
import type { LoadedSecretKeys } from './secretBox.js';
import { constantTimeEqual } from './tokens.js';

export type RecoveryPurpose = 'password_reset' | 'email_verification' | 'compromise';

/** Without 0/O, 1/I/L: a code is read from a mail and typed. 31 symbols, 8 of them: about 39 bits, for 3 tries per code. */
const codeAlphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;

export const RECOVERY_KEY_PURPOSE = 'account recovery';
export const RECOVERY_HASH_KEY_PURPOSE = 'account recovery hashes';
export const FLOW_TOKEN_KEY_PURPOSE = 'pending flows';

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** The emailed code of one request: derived, never stored. */
export function deriveCode(keys: LoadedSecretKeys, purpose: RecoveryPurpose, nonce: string, keyId?: string): string {
  const bytes = mac(keys.deriveKey(RECOVERY_KEY_PURPOSE, keyId), `code:${purpose}:${nonce}`);
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += codeAlphabet[bytes[i]! % codeAlphabet.length];
  return code;
}

/** The secret part of a link key (256 bits): derived, never stored. */
export function deriveLinkSecret(keys: LoadedSecretKeys, purpose: RecoveryPurpose, nonce: string, keyId?: string): string {
  return mac(keys.deriveKey(RECOVERY_KEY_PURPOSE, keyId), `key:${purpose}:${nonce}`).toString('base64url');
}

/** What is stored: the keyed hash of a code or key. Codes are compared case-insensitively, as typed from a mail. */
export function recoveryHash(keys: LoadedSecretKeys, purpose: RecoveryPurpose, value: string, keyId?: string): string {
  return mac(keys.deriveKey(RECOVERY_HASH_KEY_PURPOSE, keyId), `${purpose}:${value.trim().toUpperCase()}`).toString('hex');
}

export function matchesRecoveryHash(keys: LoadedSecretKeys, purpose: RecoveryPurpose, value: string, storedHash: string, keyId?: string): boolean {
  let presented: string;
  try {
    presented = recoveryHash(keys, purpose, value, keyId);
  } catch {
    presented = '';
  }
  return constantTimeEqual(presented, storedHash);
}

// ---------- pending-flow tokens ----------

export type PendingFlowKind = 'verify_email' | 'password_reset';

export interface PendingFlowClaim {
  flow: PendingFlowKind;
  /** The account the flow concerns, or a random id that names no account (an unknown email, a taken address). */
  subject: string;
  expiresAt: Date;
}

const FLOW_TOKEN_PREFIX = 'f1';

/**
 * A pending VERIFY_EMAIL or PASSWORD_RESET_BY_CODE flow, carried like a pending login (session cookie or bearer) and
 * granting nothing but the flow's next step. Stateless and signed: a flow for an unknown or taken address is a token
 * like any other (its subject names nobody), so neither the answer nor what follows tells whether the address exists.
 */
export function signFlowToken(keys: LoadedSecretKeys, claim: PendingFlowClaim): string {
  const body = `${FLOW_TOKEN_PREFIX}.${claim.flow}.${claim.subject}.${Math.floor(claim.expiresAt.getTime() / 1000)}.${randomBytes(8).toString('base64url')}`;
  return `${body}.${mac(keys.deriveKey(FLOW_TOKEN_KEY_PURPOSE), body).toString('base64url')}`;
}

export function isFlowToken(token: string): boolean {
  return token.startsWith(`${FLOW_TOKEN_PREFIX}.`);
}

/** The claim of a well-signed, unexpired token; null otherwise. */
export function readFlowToken(keys: LoadedSecretKeys, token: string, now: Date): PendingFlowClaim | null {
  const parts = token.split('.');
  if (parts.length !== 6 || parts[0] !== FLOW_TOKEN_PREFIX) return null;
  const body = parts.slice(0, 5).join('.');
  if (!constantTimeEqual(mac(keys.deriveKey(FLOW_TOKEN_KEY_PURPOSE), body).toString('base64url'), parts[5]!)) return null;
  const flow = parts[1] as PendingFlowKind;
  if (flow !== 'verify_email' && flow !== 'password_reset') return null;
  const expiresAt = new Date(Number(parts[3]) * 1000);
  if (!(expiresAt > now)) return null;
  return { flow, subject: parts[2]!, expiresAt };
}
