import type { DeviceEvent } from './events.js';

export interface DeviceAccountState {
  firstSeenAt: string;
  name: string;
  /** Until when password logins of this account from this device skip the MFA step; null: not trusted. */
  trustedUntil: string | null;
}

/** Per account that completed a login on this device. */
export interface DeviceState {
  accounts: Record<string, DeviceAccountState>;
}

export const initialDeviceState: DeviceState = { accounts: {} };

export function evolveDevice(state: DeviceState, event: DeviceEvent): DeviceState {
  const { userId } = event.data;
  const account = state.accounts[userId];
  const withAccount = (next: DeviceAccountState | undefined): DeviceState => {
    const accounts = { ...state.accounts };
    if (next) accounts[userId] = next;
    else delete accounts[userId];
    return { accounts };
  };
  switch (event.type) {
    case 'DeviceSeen':
      return withAccount({ firstSeenAt: event.data.at, name: event.data.name, trustedUntil: null });
    case 'DeviceTrusted':
      return account ? withAccount({ ...account, trustedUntil: event.data.until }) : state;
    case 'DeviceTrustDeclined':
      return state;
    case 'DeviceTrustRevoked':
      return account ? withAccount({ ...account, trustedUntil: null }) : state;
    case 'DeviceForgotten':
      return withAccount(undefined);
  }
}

export function isTrusted(state: DeviceState, userId: string, now: Date): boolean {
  const until = state.accounts[userId]?.trustedUntil;
  return until !== undefined && until !== null && now.toISOString() < until;
}
