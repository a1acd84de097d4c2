// Email one-time code decisions: pure. The handler generated the code (CSPRNG), hashed it under a derived key and, on
// a check, matched the submitted code against the hash it read in this transaction; here only ids and times decide.
import { assertNever, DomainError } from '../shared/errors.js';
import type { EmailCodeCommand } from './commands.js';
import type { AuthenticatorEvent, EmailCodeRejected } from './events.js';
import type { AuthenticatorsState, EmailCodeState } from './state.js';

/** How long a code is good for: NIST SP 800-63B's 10 minutes for an out-of-band secret. */
export const emailCodeTtlSeconds = 600;

function secondsBetween(from: string, to: string): number {
  return (new Date(to).getTime() - new Date(from).getTime()) / 1000;
}

/** The outcome of a submitted code against the latest code of its purpose: accepted, or the reason it is not. */
function check(code: EmailCodeState | null, matchedCodeId: string | null, now: string): EmailCodeRejected['data']['reason'] | null {
  // Only the latest code counts: a match against an older one (replaced by a resend) is simply wrong now.
  if (!code || matchedCodeId === null || matchedCodeId !== code.codeId) return 'INVALID_CODE';
  if (code.used) return 'CODE_REPLAYED';
  if (now >= code.expiresAt) return 'CODE_EXPIRED';
  return null;
}

export function decideEmailCode(command: EmailCodeCommand, state: AuthenticatorsState): AuthenticatorEvent[] {
  switch (command.type) {
    case 'IssueEmailCode': {
      const d = command.data;
      if (d.purpose === 'enroll' && state.email.status === 'active') throw new DomainError('ALREADY_EXISTS', 'Email codes are already set up.');
      if (d.purpose === 'login' && state.email.status !== 'active') throw new DomainError('NO_SECOND_FACTOR', 'Email codes are not set up for this account.');
      // Resending is throttled per purpose, whoever asks: one mailbox does not get a code a second.
      const latest = d.purpose === 'enroll' ? state.email.enrollCode : state.email.loginCode;
      if (latest && !latest.used && secondsBetween(latest.issuedAt, d.now) < d.resendAfterSeconds) {
        throw new DomainError('RATE_LIMITED', 'A code was sent a moment ago.', { retryAfterSeconds: Math.ceil(d.resendAfterSeconds - secondsBetween(latest.issuedAt, d.now)) });
      }
      return [{
        type: 'EmailCodeIssued',
        data: { userId: d.userId, codeId: d.codeId, purpose: d.purpose, codeHash: d.codeHash, keyId: d.keyId, flowId: d.flowId, sessionId: d.sessionId, expiresAt: d.expiresAt, at: d.now },
      }];
    }
    case 'ActivateEmailCode': {
      const d = command.data;
      if (state.email.status === 'active') throw new DomainError('ALREADY_EXISTS', 'Email codes are already set up.');
      const code = state.email.enrollCode;
      // Only the session that asked for the code may finish the enrolment with it.
      if (!code || code.sessionId !== d.sessionId) throw new DomainError('EMAIL_CODE_NOT_PENDING');
      const reason = check(code, d.matchedCodeId, d.now);
      if (reason) return [{ type: 'EmailCodeRejected', data: { userId: d.userId, reason, purpose: 'enroll', at: d.now } }];
      return [{ type: 'EmailCodeActivated', data: { userId: d.userId, codeId: code.codeId, at: d.now } }];
    }
    case 'AuthenticateEmailCode': {
      const d = command.data;
      if (state.email.status !== 'active') throw new DomainError('NO_SECOND_FACTOR', 'Email codes are not set up for this account.');
      const rejected = (reason: EmailCodeRejected['data']['reason']): AuthenticatorEvent[] => [{ type: 'EmailCodeRejected', data: { userId: d.userId, reason, purpose: 'login', at: d.now } }];
      if (d.refused) return rejected('FACTOR_NOT_ALLOWED');
      const code = state.email.loginCode && state.email.loginCode.flowId === d.flowId ? state.email.loginCode : null;
      const reason = check(code, d.matchedCodeId, d.now);
      if (reason) return rejected(reason);
      return [{ type: 'EmailCodeAccepted', data: { userId: d.userId, codeId: code!.codeId, purpose: 'login', at: d.now } }];
    }
    case 'RemoveEmailCode':
      if (state.email.status !== 'active') throw new DomainError('NO_SECOND_FACTOR', 'Email codes are not set up for this account.');
      return [{ type: 'EmailCodeRemoved', data: { userId: command.data.userId, at: command.data.now } }];
    default:
      return assertNever(command);
  }
}
