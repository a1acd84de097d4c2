import type { EmailClaimEvent, UserEvent } from './events.js';

export interface UserState {
  exists: boolean;
  deleted: boolean;
  userId: string | null;
  email: string | null;
  passwordHash: string | null;
  roles: string[];
  createdAt: string | null;
  /** When each role was granted: the admin MFA grace period runs from the later of this and registration. */
  roleGrantedAt: Record<string, string>;
  lockedUntil: string | null;
}

export const initialUserState: UserState = {
  exists: false, deleted: false, userId: null, email: null, passwordHash: null, roles: [], createdAt: null, roleGrantedAt: {}, lockedUntil: null,
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
      return { ...state, lockedUntil: event.data.until };
    case 'UserUnlocked':
      return { ...state, lockedUntil: null };
    case 'UserDeleted':
      return { ...state, deleted: true };
    case 'ReauthenticationRejected':
      return state;
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
