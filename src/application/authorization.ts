// Who may do what, checked by the use cases themselves, so every transport gets the same answer.
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { hasSecondFactor } from '../domain/authenticators/state.js';
import { isRecentlyAuthenticated } from '../domain/session/state.js';
import { DomainError } from '../domain/shared/errors.js';
import type { Caller, PendingCaller, SessionCaller } from './caller.js';
import { load } from './commandHandler.js';
import type { Deps } from './deps.js';

type AuthorizationDeps = Pick<Deps, 'store' | 'clock' | 'config'>;

export function requireSession(caller: Caller, options: { allowEnrollOnly?: boolean } = {}): SessionCaller {
  if (caller.kind !== 'session') throw new DomainError('NOT_AUTHENTICATED');
  if (caller.session.enrollOnly && !options.allowEnrollOnly) throw new DomainError('MFA_REQUIRED', 'Set up a second factor first.');
  return caller;
}

/** A pending login grants nothing but its next step: only the MFA-step use cases call this. */
export function requirePendingLogin(caller: Caller): PendingCaller {
  if (caller.kind !== 'pending') throw new DomainError('FLOW_NOT_PENDING');
  return caller;
}

function requireRecentAuthentication(deps: AuthorizationDeps, caller: SessionCaller): void {
  if (!isRecentlyAuthenticated(caller.session, deps.clock.now(), deps.config.reauthenticationTtlSeconds)) throw new DomainError('REAUTHENTICATION_REQUIRED');
}

/**
 * Sensitive changes (factors, recovery codes) need a recent authentication of the session, and, for a user who has a
 * second factor, a session that used it (AAL2). An enrol-only session may make them: it exists to set up a factor.
 */
export async function requireSensitiveChange(deps: AuthorizationDeps, caller: Caller): Promise<SessionCaller> {
  const session = requireSession(caller, { allowEnrollOnly: true });
  requireRecentAuthentication(deps, session);
  if (session.session.aal < 2) {
    const { state } = await load(deps.store, authenticatorsAggregate, session.user.id);
    if (hasSecondFactor(state)) throw new DomainError('MFA_REQUIRED');
  }
  return session;
}

/**
 * Password, email and account deletion: the sensitive-change rule, and never from an enrol-only session. That session
 * (an admin past the MFA grace period) exists to set up a factor; letting it change the password or email would let
 * whoever holds only the password take the account over without ever meeting the MFA requirement.
 */
export async function requireAccountChange(deps: AuthorizationDeps, caller: Caller): Promise<SessionCaller> {
  requireSession(caller);
  return requireSensitiveChange(deps, caller);
}

/**
 * Adding a factor: allowed to a session limited to enrolling one (that is what it is for), but only while its
 * authentication is recent, so an old stolen session cannot enrol the attacker's factor and hold the recovery codes.
 * Next to an existing factor it is a sensitive change like any other (AAL2 as well).
 */
export async function requireMayAddFactor(deps: AuthorizationDeps, caller: Caller): Promise<SessionCaller> {
  const session = requireSession(caller, { allowEnrollOnly: true });
  const { state } = await load(deps.store, authenticatorsAggregate, session.user.id);
  if (hasSecondFactor(state)) return requireSensitiveChange(deps, caller);
  requireRecentAuthentication(deps, session);
  return session;
}

/**
 * MFA_SUPPORTED_TYPES decides what can be enrolled from now on. Factors enrolled before a type was dropped keep working
 * until their owners replace them, so a configuration change never locks anybody out.
 */
export function requireSupportedFactor(deps: Pick<Deps, 'config'>, type: Deps['config']['mfaSupportedTypes'][number]): void {
  if (!deps.config.mfaSupportedTypes.includes(type)) throw new DomainError('FEATURE_DISABLED', `${type} is not offered on this server.`);
}

/** A new set of recovery codes comes with a first factor only where recovery codes are offered. */
export function recoveryCodesOffered(deps: Pick<Deps, 'config'>): boolean {
  return deps.config.mfaSupportedTypes.includes('recovery_codes');
}
