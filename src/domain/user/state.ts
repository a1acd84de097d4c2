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
}

export const initialUserState: UserState = {
  exists: false, deleted: false, erased: false, userId: null, email: null, passwordHash: null, roles: [], createdAt: null, roleGrantedAt: {}, locks: {}, mfaRequiredBy: null, lastEmailResetAt: null,
};

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered':
      return { ...state, exists: true, userId: event.data.userId, email: event.data.email, passwordHash: event.data.passwordHash, createdAt: event.data.at };
    case 'PasswordChanged':
      return { ...state, passwordHash: event.data.passwordHash };
    case 'EmailChanged':
      return { ...state, email: event.data.email };
    case 'RoleGranted':
      return state.roles.includes(event.data.role)
        ? state
        : { ...state, roles: [...state.roles, event.data.role], roleGrantedAt: { ...state.roleGrantedAt, [event.data.role]: event.data.at } };
    case 'RoleRevoked':
      return { ...state, roles: state.roles.filter((r) => r !== event.data.role) };
    case 'UserLocked':
      return { ...state, locks: { ...state.locks, [event.data.bucket ?? untrustedBucket]: event.data.until } };
    case 'UserUnlocked': {
      if (event.data.bucket === undefined) return { ...state, locks: {} };
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
    case 'PasswordReset':
      return event.data.via === 'code' || event.data.via === 'link' ? { ...state, lastEmailResetAt: event.data.at } : state;
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
