// GenerateRecoveryCodes and the read side of recovery codes. UseRecoveryCode is decided in decideRecoveryCodes and
// appended by verifyMfaCode (handleTotp.ts), which shares one transaction with the login or the step-up it completes.
import { timingSafeEqual } from 'node:crypto';
import type { App } from '../../app.js';
import { RECOVERY_CODES_KEY_PURPOSE } from '../../crypto/secretBox.js';
import { hashRecoveryCode, normalizeRecoveryCode } from '../../crypto/recoveryCodes.js';
import type { RequestInfo } from '../shared/request.js';
import { retryOnConflict, streams } from '../shared/streams.js';
import { loadAuthenticators } from '../login/handle.js';
import { decideRecoveryCodes } from './decideRecoveryCodes.js';
import { newRecoveryCodeSet, recoveryCodesAad } from './recoveryCodes.js';
import type { AuthenticatorsState } from './state.js';

/**
 * Which code of the current set `code` is, by HMAC under the key the set was made with. Every stored hash is
 * compared in constant time, so timing does not tell which position (or whether a used one) matched. A used code
 * still reports its index: the decider answers CODE_REPLAYED for it.
 */
export function matchRecoveryCode(app: App, state: AuthenticatorsState, code: string): { setId: string | null; index: number | null } {
  const set = state.recoveryCodes;
  const normalized = normalizeRecoveryCode(code);
  if (!set || normalized === null) return { setId: set?.setId ?? null, index: null };
  const key = app.secrets.keys.deriveKey(RECOVERY_CODES_KEY_PURPOSE, set.keyId);
  const submitted = Buffer.from(hashRecoveryCode(key, normalized), 'hex');
  let index: number | null = null;
  set.codeHashes.forEach((stored, i) => {
    const expected = Buffer.from(stored, 'hex');
    if (expected.length === submitted.length && timingSafeEqual(expected, submitted)) index = i;
  });
  return { setId: set.setId, index };
}

/** GenerateRecoveryCodes (regeneration): the new set replaces the old one in one event. Returns the codes, shown once here. */
export async function regenerateRecoveryCodes(app: App, userId: string, request: RequestInfo): Promise<string[]> {
  const set = newRecoveryCodeSet(app, userId, app.clock.now());
  await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const { state, version } = await loadAuthenticators(app, userId, tx);
      const events = decideRecoveryCodes({ type: 'GenerateRecoveryCodes', data: { userId, set: set.event } }, state);
      await app.store.append(streams.authenticators(userId), events, { expectedVersion: version, metadata: request.metadata, now: app.clock.now(), tx });
    }),
  );
  return set.codes;
}

/**
 * The unused codes of the current set, for a freshly reauthenticated session. They are kept sealed (AES-GCM, bound
 * to user and set) beside their hashes so a user can see them again, as allauth allows; the hashes alone check them.
 */
export async function unusedRecoveryCodes(app: App, userId: string): Promise<string[]> {
  const { state } = await loadAuthenticators(app, userId);
  const set = state.recoveryCodes;
  if (!set?.codesCiphertext) return [];
  const codes = JSON.parse(app.secrets.box.open(set.codesCiphertext, recoveryCodesAad(userId, set.setId))) as string[];
  const used = new Set(set.usedIndexes);
  return codes.filter((_, i) => !used.has(i));
}
