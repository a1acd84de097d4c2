// A new set of recovery codes, as the event that records it. Used by TOTP activation, a first WebAuthn key, and
// regeneration: the caller puts the event in its own append, so the set commits with the factor that caused it.
import type { App } from '../../app.js';
import { RECOVERY_CODES_KEY_PURPOSE } from '../../crypto/secretBox.js';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from '../../crypto/recoveryCodes.js';
import { newId } from '../../crypto/tokens.js';
import type { RecoveryCodesGenerated } from './events.js';

/**
 * Codes are stored as HMAC-SHA-256 hashes (to check them) and once more sealed with AES-GCM (so a freshly
 * reauthenticated user can see the unused ones again, as allauth allows). Neither form is readable from the log.
 */
export function newRecoveryCodeSet(app: App, userId: string, now: Date): { event: RecoveryCodesGenerated; codes: string[] } {
  const codes = generateRecoveryCodes();
  const keyId = app.secrets.keys.currentKeyId;
  const hmacKey = app.secrets.keys.deriveKey(RECOVERY_CODES_KEY_PURPOSE, keyId);
  const codeHashes = codes.map((code) => hashRecoveryCode(hmacKey, normalizeRecoveryCode(code)!));
  const setId = newId();
  const codesCiphertext = app.secrets.box.seal(JSON.stringify(codes), recoveryCodesAad(userId, setId));
  return {
    event: { type: 'RecoveryCodesGenerated', data: { userId, setId, codeHashes, codesCiphertext, keyId, at: now.toISOString() } },
    codes,
  };
}

export function recoveryCodesAad(userId: string, setId: string): string {
  return `recovery-codes:${userId}:${setId}`;
}
