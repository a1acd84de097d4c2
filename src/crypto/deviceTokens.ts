// Device tokens: what a browser's `tessera_device` cookie (or an app's X-Tessera-Device header) holds. A random device
// id signed with an HMAC key derived from the server's secret keys, so a client cannot make up the id of a device it
// never was: `<keyId>.<deviceId>.<mac>`. The token itself grants nothing: what a device is to an account (known,
// trusted) lives in the device's event stream, per account.
import { createHmac } from 'node:crypto';
import type { LoadedSecretKeys } from './secretBox.js';
import { constantTimeEqual, newId } from './tokens.js';

const purpose = 'device tokens';

export interface DeviceTokens {
  mint(): { deviceId: string; token: string };
  /** The device id of a well-formed token signed by one of our keys, else null. */
  verify(token: string | null | undefined): string | null;
}

export function createDeviceTokens(keys: LoadedSecretKeys): DeviceTokens {
  const mac = (keyId: string, deviceId: string): string =>
    createHmac('sha256', keys.deriveKey(purpose, keyId)).update(deviceId).digest('base64url').slice(0, 32);
  return {
    mint() {
      const deviceId = newId();
      return { deviceId, token: `${keys.currentKeyId}.${deviceId}.${mac(keys.currentKeyId, deviceId)}` };
    },
    verify(token) {
      const match = /^([A-Za-z0-9_-]{1,64})\.([0-9a-f-]{36})\.([A-Za-z0-9_-]{32})$/.exec(token ?? '');
      if (!match) return null;
      const [, keyId, deviceId, given] = match as unknown as [string, string, string, string];
      if (!keys.keys.some((k) => k.id === keyId)) return null;
      return constantTimeEqual(mac(keyId, deviceId), given) ? deviceId : null;
    },
  };
}
