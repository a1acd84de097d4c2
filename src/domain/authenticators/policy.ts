// Rules that span factors. Shared by TOTP and WebAuthn removal: the authenticators stream holds every factor of a
// user, so these checks run against one consistent state under one version check.
import type { AuthenticatorsState } from './state.js';

export type FactorRemoval = { kind: 'totp' } | { kind: 'webauthn'; authenticatorIds: readonly string[] };

/** How many real second factors (TOTP, WebAuthn keys) remain after a removal. Recovery codes only back one up. */
export function remainingSecondFactors(state: AuthenticatorsState, removal: FactorRemoval): number {
  const totp = state.totp.status === 'active' && removal.kind !== 'totp' ? 1 : 0;
  const removed = removal.kind === 'webauthn' ? new Set(removal.authenticatorIds) : new Set<string>();
  return totp + state.webauthn.filter((c) => !removed.has(c.authenticatorId)).length;
}

/**
 * Whether a removal would leave a user who must have a second factor (an admin) without one. The caller passes
 * `factorRequired` (from the user's roles) as a fact, so this stays pure.
 */
export function removesLastRequiredFactor(state: AuthenticatorsState, removal: FactorRemoval, factorRequired: boolean): boolean {
  return factorRequired && remainingSecondFactors(state, removal) === 0;
}

/**
 * An email code is refused as the second factor while a password reset by email is newer than the last sign-in with a
 * strong factor (TOTP, a security key, a recovery code): whoever holds the mailbox set that password, and would then
 * hold both factors. A strong factor used since then shows the owner is back.
 */
export function emailCodeRefusedAfterReset(lastEmailResetAt: string | null, state: AuthenticatorsState): boolean {
  if (lastEmailResetAt === null) return false;
  const strongUses = [state.totp.lastUsedAt, state.recoveryCodes?.lastUsedAt ?? null, ...state.webauthn.map((c) => c.lastUsedAt)]
    .filter((at): at is string => at !== null);
  const lastStrong = strongUses.sort().at(-1) ?? null;
  return lastStrong === null || lastEmailResetAt > lastStrong;
}
