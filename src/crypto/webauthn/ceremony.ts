// What both ceremonies share: drawing a challenge, the checks we run before the library (so a failure is named with a
// stable reason), the failure reasons themselves, and conversions to the library's types.
//
// What the library does NOT do, and callers must (STACK.md): make challenges single-use and expiring,
// check that an asserted credential belongs to the user the ceremony was started for, map a userHandle
// back to an account, enforce credential-id uniqueness, and decide what a counter regression means.
import { createHash, randomBytes } from 'node:crypto';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { z } from 'zod';
import { parseAuthenticatorData } from './authenticatorData.js';
import type { WebAuthnConfig } from './config.js';

export interface CredentialDescriptor {
  readonly id: string;
  readonly transports?: readonly string[];
}

export interface CeremonyOptions<T> {
  readonly options: T;
  /** Base64url challenge exactly as it appears in clientDataJSON; the caller stores it single-use. */
  readonly challenge: string;
}

export type WebAuthnFailureReason =
  | 'MALFORMED'
  | 'TYPE_MISMATCH'
  | 'CHALLENGE_MISMATCH'
  | 'ORIGIN_MISMATCH'
  | 'RP_ID_MISMATCH'
  | 'USER_NOT_PRESENT'
  | 'USER_NOT_VERIFIED'
  | 'CREDENTIAL_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'VERIFICATION_FAILED';

export interface VerificationFailure {
  readonly verified: false;
  readonly reason: WebAuthnFailureReason;
}

const CHALLENGE_BYTES = 32;
const MIN_CHALLENGE_BYTES = 16;
export const DEFAULT_TIMEOUT_MS = 300_000;

export function drawChallenge(given: Uint8Array | undefined): Uint8Array {
  // Challenges must be unpredictable (WebAuthn §13.4.3); a short test value would weaken that silently.
  if (given !== undefined && given.length < MIN_CHALLENGE_BYTES) {
    throw new RangeError(`challenge must be at least ${MIN_CHALLENGE_BYTES} bytes`);
  }
  return given ?? new Uint8Array(randomBytes(CHALLENGE_BYTES));
}

interface PrecheckInput {
  readonly config: WebAuthnConfig;
  readonly clientDataJSON: string;
  readonly authData: Uint8Array;
  readonly expectedType: 'webauthn.create' | 'webauthn.get';
  readonly expectedChallenge: string;
  readonly requireUserVerification: boolean;
}

const clientDataSchema = z.object({
  type: z.string(),
  challenge: z.string(),
  origin: z.string(),
});

/** Same order as the library's checks, so the reason we report is the first thing that is wrong. */
export async function precheckCeremony(input: PrecheckInput): Promise<VerificationFailure | null> {
  let clientData: z.infer<typeof clientDataSchema>;
  try {
    const decoded: unknown = JSON.parse(isoBase64URL.toUTF8String(input.clientDataJSON));
    const parsed = clientDataSchema.safeParse(decoded);
    if (!parsed.success) return failure('MALFORMED');
    clientData = parsed.data;
  } catch {
    return failure('MALFORMED');
  }
  if (clientData.type !== input.expectedType) return failure('TYPE_MISMATCH');
  if (clientData.challenge !== input.expectedChallenge) return failure('CHALLENGE_MISMATCH');
  if (!input.config.origins.includes(clientData.origin)) return failure('ORIGIN_MISMATCH');

  const authData = parseAuthenticatorData(input.authData);
  if (authData === null) return failure('MALFORMED');
  // node:crypto, not WebCrypto: a digest through crypto.subtle is a job handed to another thread and back, which showed
  // in the passkey login's CPU profile; hashing a few bytes in place costs microseconds.
  const expectedRpIdHash = new Uint8Array(createHash('sha256').update(input.config.rpId).digest());
  if (!bytesEqual(authData.rpIdHash, expectedRpIdHash)) return failure('RP_ID_MISMATCH');
  if (!authData.flags.up) return failure('USER_NOT_PRESENT');
  if (input.requireUserVerification && !authData.flags.uv) return failure('USER_NOT_VERIFIED');
  return null;
}

/** Fallback mapping for anything the precheck did not catch; library messages are not a stable API. */
export function reasonFromLibraryError(error: unknown): WebAuthnFailureReason {
  const message = error instanceof Error ? error.message : '';
  if (/response type/i.test(message)) return 'TYPE_MISMATCH';
  if (/challenge/i.test(message)) return 'CHALLENGE_MISMATCH';
  if (/origin/i.test(message)) return 'ORIGIN_MISMATCH';
  if (/RP ID/i.test(message)) return 'RP_ID_MISMATCH';
  if (/user presence|user not present/i.test(message)) return 'USER_NOT_PRESENT';
  if (/user verification/i.test(message)) return 'USER_NOT_VERIFIED';
  if (/base64url|missing|was not a string|bytes|CBOR|decode/i.test(message)) return 'MALFORMED';
  return 'VERIFICATION_FAILED';
}

export function failure(reason: WebAuthnFailureReason): VerificationFailure {
  return { verified: false, reason };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index += 1) difference |= (a[index] ?? 0) ^ (b[index] ?? 0);
  return difference === 0;
}

// The library's types want Uint8Array<ArrayBuffer>; a copy guarantees that regardless of where bytes came from.
export function toArrayBufferBacked(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(new ArrayBuffer(bytes.length));
  copy.set(bytes);
  return copy;
}

export function toTransports(transports: readonly string[] | undefined): string[] | undefined {
  return transports === undefined ? undefined : [...transports];
}

export function toLibraryDescriptor(descriptor: CredentialDescriptor): { id: string; transports?: string[] } {
  return descriptor.transports === undefined
    ? { id: descriptor.id }
    : { id: descriptor.id, transports: [...descriptor.transports] };
}
