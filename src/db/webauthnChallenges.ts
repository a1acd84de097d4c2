// WebAuthn challenges: kept server-side, single-use, expiring after 5 minutes, bound to one ceremony (a session, a
// pending login, or an anonymous passkey ceremony) and one purpose. The library does none of this (STACK.md).
import type { Deps } from '../application/deps.js';
import type { Queryable } from './index.js';
import { hashToken } from '../crypto/tokens.js';

export const WEBAUTHN_CHALLENGE_TTL_SECONDS = 300;

type ChallengeDeps = Pick<Deps, 'db' | 'clock'>;

/** Ceremony bindings: whose challenge it is. A challenge begun in one never answers another. */
export const bindings = {
  session: (sessionId: string): string => `session:${sessionId}`,
  flow: (flowId: string): string => `flow:${flowId}`,
  /** An anonymous passkey ceremony: the hash of the token handed to the client that began it. */
  ceremony: (ceremonyToken: string): string => `ceremony:${hashToken(ceremonyToken)}`,
};

export type ChallengePurpose = 'registration' | 'mfa' | 'passkey_login' | 'reauthentication' | 'passkey_signup';

export interface StoredChallenge {
  challenge: string;
  userId: string | null;
  passwordless: boolean;
  /** Passkey signup only: the address the pending account will claim. */
  email: string | null;
}

/** Stores the challenge of a ceremony that has just begun; a newer begin for the same binding and purpose replaces it. */
export async function storeChallenge(
  deps: ChallengeDeps,
  input: { binding: string; purpose: ChallengePurpose; challenge: string; userId: string | null; passwordless?: boolean; email?: string },
): Promise<void> {
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000);
  const stored = deps.db.query(
    `insert into webauthn_challenges (binding, purpose, challenge, user_id, passwordless, expires_at, email) values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (binding, purpose) do update set challenge = excluded.challenge, user_id = excluded.user_id,
       passwordless = excluded.passwordless, expires_at = excluded.expires_at, email = excluded.email`,
    [input.binding, input.purpose, input.challenge, input.userId, input.passwordless ?? false, expiresAt.toISOString(), input.email ?? null],
  );
  // Abandoned ceremonies would otherwise pile up; the expiry index makes this a short range delete. Once every
  // `sweepEveryMs` per instance is enough (an expired challenge is refused anyway), beside the insert.
  if (now.getTime() - lastSweep >= sweepEveryMs || now.getTime() < lastSweep) {
    lastSweep = now.getTime();
    await Promise.all([stored, deps.db.query(`delete from webauthn_challenges where expires_at < $1`, [new Date(now.getTime() - WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000).toISOString()])]);
  } else await stored;
}

const sweepEveryMs = 10_000;
let lastSweep = Number.NEGATIVE_INFINITY;

/**
 * Takes the ceremony's challenge out of the table before anything is verified: `delete ... returning` is atomic, so
 * of two concurrent submissions only one gets it, and it is gone whether the verification then succeeds or fails, so
 * a captured assertion cannot be replayed and a failed one cannot be retried. Null: none, expired, or another user's.
 * `q`: a transaction that records what became of the assertion, so the challenge goes with that record (a concurrent
 * submission's delete waits for it, then finds nothing); by default on its own, committed at once.
 */
export async function consumeChallenge(
  deps: ChallengeDeps, input: { binding: string; purpose: ChallengePurpose; userId: string | null }, q: Queryable = deps.db,
): Promise<StoredChallenge | null> {
  const rows = await q.query<{ challenge: string; user_id: string | null; passwordless: boolean; expires_at: Date | string; email: string | null }>(
    `delete from webauthn_challenges where binding = $1 and purpose = $2 returning challenge, user_id, passwordless, expires_at, email`,
    [input.binding, input.purpose],
  );
  const row = rows[0];
  if (!row) return null;
  if (new Date(row.expires_at).getTime() <= deps.clock.now().getTime()) return null;
  if (input.userId !== null && row.user_id !== input.userId) return null;
  return { challenge: row.challenge, userId: row.user_id, passwordless: row.passwordless, email: row.email };
}
