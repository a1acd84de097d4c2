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
  /**
   * The device a request presents, or a new one when it presents none (or a forged one): what every transport does
   * with the cookie or header it read. `minted` tells the transport to hand the new token out.
   */
  identify(presented: string | null | undefined): { deviceId: string; token: string; minted: boolean };
}

export function createDeviceTokens(keys: LoadedSecretKeys): DeviceTokens {
  // Derived once per key: every request verifies a token, and HKDF per request would be work for nothing.
  const derived = new Map<string, Buffer>();
  const keyOf = (keyId: string): Buffer => {
    let key = derived.get(keyId);
    if (!key) derived.set(keyId, (key = keys.deriveKey(purpose, keyId)));
    return key;
  };
  const mac = (keyId: string, deviceId: string): string => createHmac('sha256', keyOf(keyId)).update(deviceId).digest('base64url').slice(0, 32);
  const tokens: DeviceTokens = {
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
    identify(presented) {
      const deviceId = tokens.verify(presented);
      if (deviceId) return { deviceId, token: presented!, minted: false };
      return { ...tokens.mint(), minted: true };
    },
  };
  return tokens;
}
