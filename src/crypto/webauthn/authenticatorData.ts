// The fixed header of authenticatorData (WebAuthn §6.1): the RP id hash, the flags and the signature counter.

export interface AuthenticatorFlags {
  readonly up: boolean;
  readonly uv: boolean;
  readonly be: boolean;
  readonly bs: boolean;
  readonly at: boolean;
  readonly ed: boolean;
}

export interface ParsedAuthenticatorData {
  readonly rpIdHash: Uint8Array;
  readonly flags: AuthenticatorFlags;
  readonly counter: number;
}

/** The fixed 37-byte header of authenticatorData (WebAuthn §6.1); null when too short. Never throws. */
export function parseAuthenticatorData(bytes: Uint8Array): ParsedAuthenticatorData | null {
  if (bytes.length < 37) return null;
  const flagsByte = bytes[32] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    rpIdHash: bytes.slice(0, 32),
    flags: {
      up: (flagsByte & 0x01) !== 0,
      uv: (flagsByte & 0x04) !== 0,
      be: (flagsByte & 0x08) !== 0,
      bs: (flagsByte & 0x10) !== 0,
      at: (flagsByte & 0x40) !== 0,
      ed: (flagsByte & 0x80) !== 0,
    },
    counter: view.getUint32(33, false),
  };
}
