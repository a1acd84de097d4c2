// Commands on the authenticators stream for TOTP and recovery codes. The handler has done the slow and secret work
// (sealing, HMAC, TOTP matching) and passes the results in as facts, so the deciders stay pure.
import type { RecoveryCodesGenerated, SuspendableFactor } from './events.js';

export type MfaPurpose = 'login' | 'reauthentication';

export type TotpCommand =
  | { type: 'EnrollTotp'; data: { userId: string; secretCiphertext: string; keyId: string; sessionId: string; now: string; expiresAt: string } }
  | {
      type: 'ActivateTotp';
      data: {
        userId: string;
        /** The pending ciphertext the code was checked against: a newer setup in between makes the check stale. */
        verifiedCiphertext: string;
        /** The session activating: only the one that began the setup may finish it. */
        sessionId: string;
        matchedStep: number | null;
        /** A fresh set, used only when this TOTP is the user's first factor (null: recovery codes are not offered). */
        recoveryCodeSet: RecoveryCodesGenerated | null;
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

/** Where an assertion is used: the MFA step of a password login, a passwordless login, or step-up. */
export type WebAuthnPurpose = 'login' | 'passkey_login' | 'reauthentication';

/** What the handler learned from @simplewebauthn/server (via src/crypto/webauthn/) before the decider runs. */
export type AssertionCheck =
  | { verified: true; newCounter: number; backupEligible: boolean; backedUp: boolean }
  | { verified: false; reason: string };

export type WebAuthnCommand =
  | {
      type: 'RegisterWebAuthn';
      data: {
        userId: string;
        authenticatorId: string;
        credential: {
          id: string; publicKey: string; counter: number; transports: string[]; aaguid: string; backupEligible: boolean; backedUp: boolean;
        };
        isPasswordless: boolean;
        name: string;
        /** Whether a trusted root vouched for the AAGUID (direct attestation), and the AAGUID lists' verdict on it. */
        attestationVerified: boolean;
        refusal: 'AAGUID_BLOCKED' | 'AAGUID_NOT_ALLOWED' | null;
        /** A fresh set, used only when this key is the user's first factor (null: recovery codes are not offered). */
        recoveryCodeSet: RecoveryCodesGenerated | null;
        now: string;
      };
    }
  | {
      type: 'AuthenticateWebAuthn';
      data: {
        userId: string;
        /** The credential id the assertion claims; looked up among this user's keys only. */
        credentialId: string;
        /** The public key the signature was checked against: a key removed in between makes the check stale. */
        verifiedPublicKey: string | null;
        check: AssertionCheck;
        purpose: WebAuthnPurpose;
        /** AAGUIDs refused at authentication (the block list, when enforced). */
        blockedAaguids: readonly string[];
        now: string;
      };
    }
  | { type: 'RenameWebAuthn'; data: { userId: string; authenticatorId: string; name: string; now: string } }
  | {
      type: 'RemoveWebAuthn';
      /** `hasPassword`: false for a passkey-only account, whose last passkey is its only way in. */
      data: { userId: string; authenticatorIds: string[]; factorRequired: boolean; hasPassword: boolean; now: string };
    };

/** Email codes: the handler has generated, hashed and matched the code; the decider sees only hashes and ids. */
export type EmailCodeCommand =
  | {
      type: 'IssueEmailCode';
      data: {
        userId: string; codeId: string; purpose: 'enroll' | 'login'; codeHash: string; keyId: string; flowId: string | null; sessionId: string | null;
        expiresAt: string; resendAfterSeconds: number; now: string;
      };
    }
  | { type: 'ActivateEmailCode'; data: { userId: string; sessionId: string; matchedCodeId: string | null; now: string } }
  | {
      type: 'AuthenticateEmailCode';
      /** `refused`: a password reset by email happened after the last strong sign-in (the mailbox would be both factors). */
      data: { userId: string; flowId: string; matchedCodeId: string | null; refused: boolean; now: string };
    }
  | { type: 'RemoveEmailCode'; data: { userId: string; now: string } };

/**
 * An administrator's reset of every factor. `hasPassword`: false for a passkey-only account, whose passwordless
 * passkeys are kept (its only way in).
 */
export type MfaResetCommand = { type: 'ResetMfa'; data: { userId: string; by: string; reason: string; hasPassword: boolean; now: string } };

/** The claim of one credential id by one account, on the credential id's own stream. */
export type WebAuthnClaimCommand =
  | { type: 'ClaimWebAuthnCredential'; data: { userId: string; authenticatorId: string; now: string } }
  | { type: 'ReleaseWebAuthnCredential'; data: { userId: string; now: string } };

/** Suspending a factor ("this wasn't me") and restoring it (the owner at AAL2 with another factor, or an administrator). */
export type FactorSuspensionCommand =
  | { type: 'SuspendFactor'; data: { userId: string; factor: SuspendableFactor; authenticatorId: string | null; notificationId: string; now: string } }
  | { type: 'RestoreFactor'; data: { userId: string; factor: SuspendableFactor; authenticatorId: string | null; by: 'owner' | 'admin'; now: string } };
