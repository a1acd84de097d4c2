import type { DeviceTrustRevokedReason } from './events.js';

// Facts decided outside (the login that completed, the clock, the trust age) arrive in the command.
export type DeviceCommand =
  | { type: 'SeeDevice'; data: { deviceId: string; userId: string; name: string; now: string } }
  | { type: 'AnswerDeviceTrust'; data: { deviceId: string; userId: string; sessionId: string; trust: boolean; until: string; now: string } }
  | { type: 'RevokeDeviceTrust'; data: { deviceId: string; userId: string; reason: DeviceTrustRevokedReason; now: string } }
  | { type: 'ForgetDevice'; data: { deviceId: string; userId: string; now: string } };
