// allauth splits a passkey signup in three requests (POST the email, GET the creation options, PUT the credential);
// beginPasskeySignup makes the options with the email, in the first. They are kept here, by the ceremony token's hash,
// until the GET, for as long as the challenge lives. In memory: with several instances, the GET must reach the one that
// served the POST (the PUT need not: the challenge itself is in the database).
import { createHash } from 'node:crypto';
import { WEBAUTHN_CHALLENGE_TTL_SECONDS } from '../db/webauthnChallenges.js';
import type { Clock } from '../domain/shared/clock.js';

const MAX_ENTRIES = 10_000;

export interface PasskeySignupOptionsCache {
  put(ceremonyToken: string, options: unknown): void;
  get(ceremonyToken: string): unknown;
  has(ceremonyToken: string): boolean;
  delete(ceremonyToken: string): void;
}

export function createPasskeySignupOptionsCache(clock: Clock): PasskeySignupOptionsCache {
  const entries = new Map<string, { options: unknown; expiresAt: number }>();
  const key = (token: string): string => createHash('sha256').update(token).digest('base64url');
  const live = (token: string): { options: unknown } | undefined => {
    const entry = entries.get(key(token));
    if (!entry) return undefined;
    if (entry.expiresAt <= clock.now().getTime()) {
      entries.delete(key(token));
      return undefined;
    }
    return entry;
  };
  return {
    put(token, options) {
      const now = clock.now().getTime();
      for (const [k, entry] of entries) {
        if (entry.expiresAt > now && entries.size < MAX_ENTRIES) break; // oldest first: the rest are younger
        entries.delete(k);
      }
      entries.set(key(token), { options, expiresAt: now + WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000 });
    },
    get: (token) => live(token)?.options,
    has: (token) => live(token) !== undefined,
    delete: (token) => void entries.delete(key(token)),
  };
}
