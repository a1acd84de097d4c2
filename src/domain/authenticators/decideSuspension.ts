// Suspending and restoring a factor ("this wasn't me", issue 17): pure.
import { assertNever, DomainError } from '../shared/errors.js';
import type { FactorSuspensionCommand } from './commands.js';
import type { AuthenticatorEvent, SuspendableFactor } from './events.js';
import type { AuthenticatorsState } from './state.js';

/** Whether the factor exists, and whether it is suspended now; null: no such factor (removed since). */
function suspensionOf(state: AuthenticatorsState, factor: SuspendableFactor, authenticatorId: string | null): boolean | null {
  if (factor === 'totp') return state.totp.status === 'active' ? Boolean(state.totp.suspended) : null;
  if (factor === 'recovery_codes') return state.recoveryCodes ? Boolean(state.recoveryCodes.suspended) : null;
  const credential = state.webauthn.find((c) => c.authenticatorId === authenticatorId);
  return credential ? Boolean(credential.suspended) : null;
}

export function decideFactorSuspension(command: FactorSuspensionCommand, state: AuthenticatorsState): AuthenticatorEvent[] {
  const d = command.data;
  const suspended = suspensionOf(state, d.factor, d.authenticatorId);
  switch (command.type) {
    case 'SuspendFactor':
      // Already removed, or already suspended: nothing left to suspend.
      if (suspended === null || suspended) return [];
      return [{ type: 'FactorSuspended', data: { userId: d.userId, factor: d.factor, authenticatorId: d.authenticatorId, notificationId: command.data.notificationId, at: d.now } }];
    case 'RestoreFactor':
      if (suspended === null || !suspended) throw new DomainError('NOT_FOUND');
      return [{ type: 'FactorRestored', data: { userId: d.userId, factor: d.factor, authenticatorId: d.authenticatorId, by: command.data.by, at: d.now } }];
    default:
      return assertNever(command);
  }
}
