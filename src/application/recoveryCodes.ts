// Recovery codes: a new set (with the first factor, or regenerated), matching a submitted code, and showing the unused
// ones again. Codes are stored as HMAC-SHA-256 hashes (to check them) and once more sealed with AES-GCM (so a freshly
// reauthenticated user can see the unused ones again, as allauth allows). Neither form is readable from the log.
import { timingSafeEqual } from 'node:crypto';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from '../crypto/recoveryCodes.js';
import { RECOVERY_CODES_KEY_PURPOSE } from '../crypto/secretBox.js';
import { newId } from '../crypto/tokens.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import type { RecoveryCodesGenerated } from '../domain/authenticators/events.js';
import type { AuthenticatorsState } from '../domain/authenticators/state.js';
import { requireSensitiveChange, requireSupportedFactor } from './authorization.js';
import type { Caller } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import type { RequestFacts } from './request.js';

type CodeDeps = Pick<Deps, 'secrets'>;

function recoveryCodesAad(userId: string, setId: string): string {
  return `recovery-codes:${userId}:${setId}`;
}

/** A new set, as the event that records it: the caller puts it in its own append, so it commits with its cause. */
export function newRecoveryCodeSet(deps: CodeDeps, userId: string, now: Date): { event: RecoveryCodesGenerated; codes: string[] } {
  const codes = generateRecoveryCodes();
  const keyId = deps.secrets.keys.currentKeyId;
  const hmacKey = deps.secrets.keys.deriveKey(RECOVERY_CODES_KEY_PURPOSE, keyId);
  const codeHashes = codes.map((code) => hashRecoveryCode(hmacKey, normalizeRecoveryCode(code)!));
  const setId = newId();
  const codesCiphertext = deps.secrets.box.seal(JSON.stringify(codes), recoveryCodesAad(userId, setId));
  return {
    event: { type: 'RecoveryCodesGenerated', data: { userId, setId, codeHashes, codesCiphertext, keyId, at: now.toISOString() } },
    codes,
  };
}

/**
 * Which code of the current set `code` is, by HMAC under the key the set was made with. Every stored hash is
 * compared in constant time, so timing does not tell which position (or whether a used one) matched. A used code
 * still reports its index: the decider answers CODE_REPLAYED for it.
 */
export function matchRecoveryCode(deps: CodeDeps, state: AuthenticatorsState, code: string): { setId: string | null; index: number | null } {
  const set = state.recoveryCodes;
  const normalized = normalizeRecoveryCode(code);
  if (!set || normalized === null) return { setId: set?.setId ?? null, index: null };
  const key = deps.secrets.keys.deriveKey(RECOVERY_CODES_KEY_PURPOSE, set.keyId);
  const submitted = Buffer.from(hashRecoveryCode(key, normalized), 'hex');
  let index: number | null = null;
  set.codeHashes.forEach((stored, i) => {
    const expected = Buffer.from(stored, 'hex');
    if (expected.length === submitted.length && timingSafeEqual(expected, submitted)) index = i;
  });
  return { setId: set.setId, index };
}

type RecoveryDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'secrets'>;

/** GenerateRecoveryCodes (regeneration): the new set replaces the old one in one event. The codes are shown once here. */
export async function regenerateRecoveryCodes(deps: RecoveryDeps, caller: Caller, request: RequestFacts): Promise<string[]> {
  requireSupportedFactor(deps, 'recovery_codes');
  const auth = await requireSensitiveChange(deps, caller);
  const userId = auth.user.id;
  const set = newRecoveryCodeSet(deps, userId, deps.clock.now());
  await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, authenticatorsAggregate, userId, { type: 'GenerateRecoveryCodes', data: { userId, set: set.event } }, request));
  return set.codes;
}

/** The unused codes of the current set, for a freshly reauthenticated session. */
export async function unusedRecoveryCodes(deps: RecoveryDeps, caller: Caller): Promise<string[]> {
  const auth = await requireSensitiveChange(deps, caller);
  const { state } = await load(deps.store, authenticatorsAggregate, auth.user.id);
  const set = state.recoveryCodes;
  if (!set?.codesCiphertext) return [];
  const codes = JSON.parse(deps.secrets.box.open(set.codesCiphertext, recoveryCodesAad(auth.user.id, set.setId))) as string[];
  const used = new Set(set.usedIndexes);
  return codes.filter((_, i) => !used.has(i));
}
