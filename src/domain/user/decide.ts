// Pure deciders of the account and of email ownership.
import { assertNever, DomainError } from '../shared/errors.js';
import type { EmailClaimCommand, UserCommand } from './commands.js';
import type { EmailClaimEvent, UserEvent } from './events.js';
import { maxCodeFailures, type EmailClaimState, type UserState } from './state.js';

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
      return [{
        type: 'EmailChanged',
        data: { userId, email: command.data.email, previousEmail: state.email!, ...(command.data.reason ? { reason: command.data.reason } : {}), at: command.data.now },
      }];
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
      if (d.by === 'admin') return Object.keys(state.locks).length === 0 && !state.assistedRecovery ? [] : [{ type: 'UserUnlocked', data: { userId, by: 'admin', at: d.now } }];
      const current = state.locks[d.bucket];
      if (current === undefined || current > d.now) return [];
      return [{ type: 'UserUnlocked', data: { userId, by: 'timeout', bucket: d.bucket, at: d.now } }];
    }
    case 'RequestPasswordReset': {
      const { now, ...d } = command.data;
      return [{ type: 'PasswordResetRequested', data: { userId, ...d, at: now } }];
    }
    case 'ResetPassword': {
      const d = command.data;
      const request = state.passwordReset;
      const rejected = (reason: 'INVALID_CODE' | 'FLOW_EXPIRED'): UserEvent[] => [{ type: 'PasswordResetRejected', data: { userId, via: d.via, reason, at: d.now } }];
      // No request, a used one, or a newer one since the code was checked: the code means nothing now.
      const stored = d.via === 'code' ? request?.codeHash : request?.keyHash;
      if (!request || d.verifiedHash === null || stored !== d.verifiedHash) return rejected('INVALID_CODE');
      const expiresAt = d.via === 'code' ? request.codeExpiresAt : request.keyExpiresAt;
      if (d.now >= expiresAt || (d.via === 'code' && request.codeFailures >= maxCodeFailures)) return rejected('FLOW_EXPIRED');
      return [
        { type: 'PasswordChanged', data: { userId, passwordHash: d.passwordHash, reason: 'reset', at: d.now } },
        { type: 'PasswordReset', data: { userId, via: d.via, at: d.now } },
      ];
    }
    case 'RequestEmailVerification': {
      const { now, ...d } = command.data;
      return [{ type: 'EmailVerificationRequested', data: { userId, ...d, at: now } }];
    }
    case 'VerifyEmail': {
      const d = command.data;
      const open = state.verification;
      if (!open || d.verifiedHash === null || open.codeHash !== d.verifiedHash) return [{ type: 'EmailVerificationRejected', data: { userId, reason: 'INVALID_CODE', at: d.now } }];
      if (d.now >= open.expiresAt || open.failures >= maxCodeFailures) return [{ type: 'EmailVerificationRejected', data: { userId, reason: 'FLOW_EXPIRED', at: d.now } }];
      return [{ type: 'EmailVerified', data: { userId, at: d.now } }];
    }
    case 'RecordSignupAttempt':
      return [{ type: 'SignupAttempted', data: { userId, at: command.data.now } }];
    case 'ReportCompromise': {
      const { now, ...d } = command.data;
      // Each key works once: a second use (or the loser of two racing uses, on the stream's version) is refused.
      if (state.reportedNotifications.includes(d.notificationId)) throw new DomainError('INVALID_KEY');
      return [{ type: 'CompromiseReported', data: { userId, ...d, at: now } }];
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
