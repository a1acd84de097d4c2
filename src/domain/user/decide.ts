// Pure deciders of the account and of email ownership.
import { assertNever, DomainError } from '../shared/errors.js';
import type { EmailClaimCommand, UserCommand } from './commands.js';
import type { EmailClaimEvent, UserEvent } from './events.js';
import type { EmailClaimState, UserState } from './state.js';

export const knownRoles = ['admin', 'auditor', 'analyst'] as const;

export function decideUser(command: UserCommand, state: UserState): UserEvent[] {
  if (command.type === 'SignUp') {
    if (state.exists) throw new DomainError('ALREADY_EXISTS', 'account already exists');
    const { userId, email, passwordHash, now } = command.data;
    return [{ type: 'UserRegistered', data: { userId, email, passwordHash, at: now } }];
  }
  if (command.type === 'EraseUser') {
    // Erasure also applies to an account already deleted (its key may predate erasure on deletion); once is enough.
    if (!state.exists) throw new DomainError('NOT_FOUND');
    if (state.erased) return [];
    return [{ type: 'UserErased', data: { userId: state.userId!, by: command.data.by, reason: command.data.reason, at: command.data.now } }];
  }
  if (!state.exists || state.deleted) throw new DomainError('NOT_FOUND');
  const userId = state.userId!;
  switch (command.type) {
    case 'ChangePassword':
      return [{ type: 'PasswordChanged', data: { userId, passwordHash: command.data.passwordHash, reason: 'changed', at: command.data.now } }];
    case 'UpgradePasswordHash':
      return [{ type: 'PasswordChanged', data: { userId, passwordHash: command.data.passwordHash, reason: 'rehashed', at: command.data.now } }];
    case 'ChangeEmail':
      if (command.data.email === state.email) return [];
      return [{ type: 'EmailChanged', data: { userId, email: command.data.email, previousEmail: state.email!, at: command.data.now } }];
    case 'GrantRole':
      if (!(knownRoles as readonly string[]).includes(command.data.role)) throw new DomainError('VALIDATION_FAILED', `unknown role ${command.data.role}`, { field: 'role' });
      if (state.roles.includes(command.data.role)) return [];
      return [{ type: 'RoleGranted', data: { userId, role: command.data.role, at: command.data.now } }];
    case 'RevokeRole':
      if (!state.roles.includes(command.data.role)) return [];
      return [{ type: 'RoleRevoked', data: {
        userId, role: command.data.role,
        ...(command.data.by !== undefined ? { by: command.data.by } : {}), ...(command.data.reason !== undefined ? { reason: command.data.reason } : {}),
        at: command.data.now,
      } }];
    case 'RequireMfa': {
      const { deadline, by, reason, now } = command.data;
      if (state.mfaRequiredBy === deadline) return [];
      return [{ type: 'MfaPolicyApplied', data: { userId, deadline, by, reason, at: now } }];
    }
    case 'LiftMfaRequirement':
      if (state.mfaRequiredBy === null) return [];
      return [{ type: 'MfaPolicyLifted', data: { userId, by: command.data.by, reason: command.data.reason, at: command.data.now } }];
    case 'RecordSignOut':
      return [{ type: 'UserSignedOut', data: { userId, by: command.data.by, reason: command.data.reason, sessionCount: command.data.sessionCount, at: command.data.now } }];
    case 'DeleteAccount':
      return [{ type: 'UserDeleted', data: { userId, at: command.data.now } }];
    case 'RejectPassword':
      return [{ type: 'ReauthenticationRejected', data: { userId, method: 'password', purpose: command.data.purpose, at: command.data.now } }];
    case 'LockUser': {
      // Already locked past the moment: attempts that were in flight when the lock was written add nothing.
      const { until, failures, bucket, now } = command.data;
      const current = state.locks[bucket];
      if (current !== undefined && current > now) return [];
      return [{ type: 'UserLocked', data: { userId, until, failures, bucket, at: now } }];
    }
    case 'UnlockUser': {
      const d = command.data;
      if (d.by === 'admin') return Object.keys(state.locks).length === 0 ? [] : [{ type: 'UserUnlocked', data: { userId, by: 'admin', at: d.now } }];
      const current = state.locks[d.bucket];
      if (current === undefined || current > d.now) return [];
      return [{ type: 'UserUnlocked', data: { userId, by: 'timeout', bucket: d.bucket, at: d.now } }];
    }
    default:
      return assertNever(command);
  }
}

export function decideEmailClaim(command: EmailClaimCommand, state: EmailClaimState): EmailClaimEvent[] {
  switch (command.type) {
    case 'ClaimEmail':
      if (state.claimedBy === command.data.userId) return [];
      if (state.claimedBy !== null) throw new DomainError('EMAIL_TAKEN');
      return [{ type: 'EmailClaimed', data: { userId: command.data.userId, at: command.data.now } }];
    case 'ReleaseEmail':
      if (state.claimedBy !== command.data.userId) return [];
      return [{ type: 'EmailReleased', data: { userId: command.data.userId, at: command.data.now } }];
    default:
      return assertNever(command);
  }
}
