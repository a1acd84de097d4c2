import type { LoginMethod } from './events.js';

// The handler verifies the password or the factor first (slow, I/O) and passes the outcome in.
export type LoginCommand =
  | {
      type: 'StartLogin';
      data: {
        flowId: string;
        userId: string | null;
        method: 'password' | 'passkey';
        passwordValid: boolean;
        /** The user's factor types; non-empty means the MFA step is required. */
        factorTypes: string[];
        pendingTokenHash: string;
        /** The device, when the account's owner trusted it and the trust has not run out: the MFA step is skipped. */
        trustedDeviceId: string | null;
        sessionId: string;
        aal: 1 | 2;
        now: string;
        expiresAt: string;
      };
    }
  | {
      type: 'AuthenticateMfa';
      data: { method: LoginMethod; outcome: { accepted: true } | { accepted: false; reason: string }; sessionId: string; now: string };
    }
  | { type: 'AbandonLogin'; data: { now: string } }
  | {
      /** Passwordless login: the handler has verified a user-verified passkey assertion for this user. */
      type: 'StartPasskeyLogin';
      data: { flowId: string; userId: string; sessionId: string; now: string };
    };
