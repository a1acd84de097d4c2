// Commands on the authenticators stream for TOTP and recovery codes. The handler has done the slow and secret work
// (sealing, HMAC, TOTP matching) and passes the results in as facts, so the deciders stay pure.
import type { RecoveryCodesGenerated } from './events.js';

export type MfaPurpose = 'login' | 'reauthentication';

export type TotpCommand =
  | { type: 'EnrollTotp'; data: { userId: string; secretCiphertext: string; keyId: string; now: string; expiresAt: string } }
  | {
      type: 'ActivateTotp';
      data: {
        userId: string;
        /** The pending ciphertext the code was checked against: a newer setup in between makes the check stale. */
        verifiedCiphertext: string;
        matchedStep: number | null;
        /** A fresh set, used only when this TOTP is the user's first factor. */
        recoveryCodeSet: RecoveryCodesGenerated;
        now: string;
      };
    }
  | {
      type: 'AuthenticateTotp';
      data: { userId: string; verifiedCiphertext: string; matchedStep: number | null; purpose: MfaPurpose; now: string };
    }
  | { type: 'DeactivateTotp'; data: { userId: string; factorRequired: boolean; now: string } };

export type RecoveryCodeCommand =
  | { type: 'GenerateRecoveryCodes'; data: { userId: string; set: RecoveryCodesGenerated } }
  | {
      type: 'UseRecoveryCode';
      data: {
        userId: string;
        /** The set the code was hashed against, and the index of the hash it matched (null: no match). */
        setId: string | null;
        matchedIndex: number | null;
        purpose: MfaPurpose;
        now: string;
      };
    };
