// Device decisions: pure.
import { assertNever, DomainError } from '../shared/errors.js';
import type { DeviceCommand } from './commands.js';
import type { DeviceEvent } from './events.js';
import type { DeviceState } from './state.js';

export function decideDevice(command: DeviceCommand, state: DeviceState): DeviceEvent[] {
  const d = command.data;
  const account = state.accounts[d.userId];
  switch (command.type) {
    case 'SeeDevice':
      // Known already: nothing new (a changed user agent on the same device is the same device).
      return account ? [] : [{ type: 'DeviceSeen', data: { deviceId: d.deviceId, userId: d.userId, name: command.data.name, at: d.now } }];
    case 'AnswerDeviceTrust': {
      // Only a device this account completed a login on can be trusted by it.
      if (!account) throw new DomainError('NOT_FOUND');
      const { sessionId, trust, until } = command.data;
      return [trust
        ? { type: 'DeviceTrusted', data: { deviceId: d.deviceId, userId: d.userId, sessionId, until, at: d.now } }
        : { type: 'DeviceTrustDeclined', data: { deviceId: d.deviceId, userId: d.userId, sessionId, at: d.now } }];
    }
    case 'RevokeDeviceTrust':
      if (!account?.trustedUntil) return [];
      return [{ type: 'DeviceTrustRevoked', data: { deviceId: d.deviceId, userId: d.userId, reason: command.data.reason, at: d.now } }];
    case 'ForgetDevice':
      if (!account) return [];
      return [{ type: 'DeviceForgotten', data: { deviceId: d.deviceId, userId: d.userId, reason: 'hard_limit', at: d.now } }];
    default:
      return assertNever(command);
  }
}
