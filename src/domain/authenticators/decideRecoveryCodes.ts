// Recovery code decisions: pure. The handler has hashed the submitted code and found which stored hash (if any) it
// equals; this decides whether that code may still be used.
import { assertNever, DomainError } from '../shared/errors.js';
import type { RecoveryCodeCommand } from './commands.js';
import type { AuthenticatorEvent } from './events.js';
import { hasSecondFactor, type AuthenticatorsState } from './state.js';

export function decideRecoveryCodes(command: RecoveryCodeCommand, state: AuthenticatorsState): AuthenticatorEvent[] {
  switch (command.type) {
    case 'GenerateRecoveryCodes':
      // Codes back up a factor; without one they would be a password by another name.
      if (!hasSecondFactor(state)) throw new DomainError('NO_SECOND_FACTOR');
      // The new set replaces the old one in this single event: there is no moment with both or neither.
      return [command.data.set];
    case 'UseRecoveryCode': {
      const d = command.data;
      const set = state.recoveryCodes;
      if (set?.suspended) throw new DomainError('FACTOR_SUSPENDED');
      const rejected = (reason: 'INVALID_CODE' | 'CODE_REPLAYED'): AuthenticatorEvent[] => [
        { type: 'RecoveryCodeRejected', data: { userId: d.userId, reason, purpose: d.purpose, at: d.now } },
      ];
      // Matched against a set that was since regenerated: the old codes no longer exist.
      if (!set || d.matchedIndex === null || d.setId !== set.setId) return rejected('INVALID_CODE');
      if (d.matchedIndex < 0 || d.matchedIndex >= set.codeHashes.length) return rejected('INVALID_CODE');
      if (set.usedIndexes.includes(d.matchedIndex)) return rejected('CODE_REPLAYED');
      return [{ type: 'RecoveryCodeUsed', data: { userId: d.userId, setId: set.setId, index: d.matchedIndex, purpose: d.purpose, at: d.now } }];
    }
    default:
      return assertNever(command);
  }
}
