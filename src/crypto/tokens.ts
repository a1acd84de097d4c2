// Opaque tokens and ids. Session tokens are bearer secrets: only their SHA-256 hash is stored, so a leaked
// sessions table cannot be replayed. A fast hash is enough here because the token carries 256 bits of entropy.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

const SESSION_TOKEN_BYTES = 32;

/** A fresh session (or pending-login) token: 32 bytes from the CSPRNG, base64url without padding. */
export function newSessionToken(): string {
  return randomBytes(SESSION_TOKEN_BYTES).toString('base64url');
}

/**
 * A pending login's token: as random as a session's, behind a mark that tells the two apart before any lookup, so
 * that only a pending login's token pays for what its MFA step reads with it (resolveCaller). The mark grants
 * nothing: the token is still looked up by its hash, and one without the mark (or a session's with it) is looked up as
 * any other.
 */
const pendingLoginMark = 'mfa.';

export function newPendingLoginToken(): string {
  return `${pendingLoginMark}${newSessionToken()}`;
}

export function isPendingLoginToken(token: string): boolean {
  return token.startsWith(pendingLoginMark);
}

/** SHA-256 hex of a token: what is stored and looked up instead of the token itself. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A random UUID (v4) for aggregates, flows and events. */
export function newId(): string {
  return randomUUID();
}

/**
 * Compares two strings without an early exit on the first differing byte, so the time taken does not tell an
 * attacker how much of a guess was right. Both sides are hashed first: timingSafeEqual needs equal lengths, and
 * comparing digests keeps the length of the secret out of the timing too.
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const digestA = createHash('sha256').update(a).digest();
  const digestB = createHash('sha256').update(b).digest();
  return timingSafeEqual(digestA, digestB);
}
