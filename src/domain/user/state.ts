import type { EmailClaimEvent, UserEvent } from './events.js';

/** The attempt bucket shared by every device not known to the account (strangers, and the owner on a new device). */
export const untrustedBucket = 'untrusted';

/** The events of an attempt that verified no secret of the account (a password tried on a passkey-only account): counted nowhere. */
export const noSecretBucket = 'none';

export interface UserState {
  exists: boolean;
  deleted: boolean;
  /** The personal data key is destroyed: the email and every other personal field read as null from now on. */
  erased: boolean;
  userId: string | null;
  email: string | null;
  passwordHash: string | null;
  roles: string[];
  createdAt: string | null;
  /** When each role was granted: the admin MFA grace period runs from the later of this and registration. */
  roleGrantedAt: Record<string, string>;
  /** Locks by attempt bucket (a known device's id, or 'untrusted' for every unknown device): until when. */
  locks: Record<string, string>;
  /** The deadline an administrator set for a strong second factor (requireMfa); null: none. */
  mfaRequiredBy: string | null;
  /** The latest password reset by email (PasswordReset via 'code' or 'link'): the mailbox alone set the password then. */
  lastEmailResetAt: string | null;
  /** The address is proven (EmailVerified). Accounts from before verification existed start unverified. */
  emailVerified: boolean;
  /** The open reset request, if any: keyed hashes of its code and link key. */
  passwordReset: { codeHash: string; keyHash: string; keyId: string; codeExpiresAt: string; keyExpiresAt: string; codeFailures: number } | null;
  /** The open verification code, if any; `newEmail`: the address an email change waits for (null: the account's own). */
  verification: { codeHash: string; keyId: string; expiresAt: string; failures: number; newEmail: string | null } | null;
  /** "This wasn't me" was used: no login until the password is reset by email. */
  resetRequired: boolean;
  /** The only second factor was suspended: locked until an administrator restores a factor (assisted recovery). */
  assistedRecovery: boolean;
  /** Notifications whose "this wasn't me" key was used: each works once. */
  reportedNotifications: string[];
}

/** Wrong codes a reset request or a verification code survives. */
export const maxCodeFailures = 3;

export const initialUserState: UserState = {
  exists: false, deleted: false, erased: false, userId: null, email: null, passwordHash: null, roles: [], createdAt: null, roleGrantedAt: {}, locks: {}, mfaRequiredBy: null, lastEmailResetAt: null,
  emailVerified: false, passwordReset: null, verification: null, resetRequired: false, assistedRecovery: false, reportedNotifications: [],
};

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered':
      return { ...state, exists: true, userId: event.data.userId, email: event.data.email, passwordHash: event.data.passwordHash, createdAt: event.data.at };
    case 'PasswordChanged':
      return { ...state, passwordHash: event.data.passwordHash };
    case 'EmailChanged':
      // A new address is verified by the code that made the change; one put back by "this wasn't me" was the account's.
      return { ...state, email: event.data.email, verification: null };
    case 'RoleGranted':
      return state.roles.includes(event.data.role)
        ? state
        : { ...state, roles: [...state.roles, event.data.role], roleGrantedAt: { ...state.roleGrantedAt, [event.data.role]: event.data.at } };
    case 'RoleRevoked':
      return { ...state, roles: state.roles.filter((r) => r !== event.data.role) };
    case 'UserLocked':
      return { ...state, locks: { ...state.locks, [event.data.bucket ?? untrustedBucket]: event.data.until } };
    case 'UserUnlocked': {
      if (event.data.bucket === undefined) return { ...state, locks: {}, assistedRecovery: false };
      const { [event.data.bucket]: _ended, ...locks } = state.locks;
      return { ...state, locks };
    }
    case 'UserDeleted':
      return { ...state, deleted: true };
    case 'UserErased':
      return { ...state, erased: true, email: null };
    case 'ReauthenticationRejected':
    case 'UserSignedOut':
      return state;
    case 'MfaPolicyApplied':
      return { ...state, mfaRequiredBy: event.data.deadline };
    case 'MfaPolicyLifted':
      return { ...state, mfaRequiredBy: null };
    case 'SignupAttempted':
      return state;
    case 'PasswordResetRequested': {
      const d = event.data;
      return { ...state, passwordReset: { codeHash: d.codeHash, keyHash: d.keyHash, keyId: d.keyId, codeExpiresAt: d.codeExpiresAt, keyExpiresAt: d.keyExpiresAt, codeFailures: 0 } };
    }
    case 'PasswordResetRejected':
      if (!state.passwordReset || event.data.via !== 'code' || event.data.reason !== 'INVALID_CODE') return state;
      return { ...state, passwordReset: { ...state.passwordReset, codeFailures: state.passwordReset.codeFailures + 1 } };
    case 'PasswordReset':
      // The request is used up (code and link alike), and a reset proves the mailbox: the address is verified too.
      // A reset by email also marks when the mailbox alone last set the password (an email code is refused after it).
      return {
        ...state, passwordReset: null, resetRequired: false, emailVerified: true,
        lastEmailResetAt: event.data.via === 'code' || event.data.via === 'link' ? event.data.at : state.lastEmailResetAt,
      };
    case 'EmailVerificationRequested': {
      const d = event.data;
      return { ...state, verification: { codeHash: d.codeHash, keyId: d.keyId, expiresAt: d.expiresAt, failures: 0, newEmail: d.newEmail } };
    }
    case 'EmailVerificationRejected':
      if (!state.verification || event.data.reason !== 'INVALID_CODE') return state;
      return { ...state, verification: { ...state.verification, failures: state.verification.failures + 1 } };
    case 'EmailVerified':
      return { ...state, emailVerified: true, verification: state.verification?.newEmail ? state.verification : null };
    case 'CompromiseReported':
      return {
        ...state, resetRequired: true, assistedRecovery: state.assistedRecovery || event.data.assistedRecovery, passwordReset: null,
        reportedNotifications: [...state.reportedNotifications, event.data.notificationId],
      };
  }
}

export interface EmailClaimState {
  claimedBy: string | null;
}

export const initialEmailClaimState: EmailClaimState = { claimedBy: null };

export function evolveEmailClaim(state: EmailClaimState, event: EmailClaimEvent): EmailClaimState {
  switch (event.type) {
    case 'EmailClaimed':
      return { claimedBy: event.data.userId };
    case 'EmailReleased':
      return state.claimedBy === event.data.userId ? { claimedBy: null } : state;
  }
}
