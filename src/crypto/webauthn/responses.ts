// The credential JSON a client sends (credential.toJSON()): its zod schemas, bounded so an attacker cannot park a
// megabyte anywhere, and the few fields a caller must read before it knows which account to verify against.
// Never throws for anything an attacker controls.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { z } from 'zod';

export type { AuthenticationResponseJSON, RegistrationResponseJSON };

/** Base64url length for n bytes, unpadded. */
function b64Len(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

function base64Url(maxBytes: number): z.ZodString {
  // Padding is tolerated because some clients send it; the library decodes both forms.
  return z
    .string()
    .min(1)
    .max(b64Len(maxBytes) + 2)
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url');
}

const KIB = 1024;
const credentialIdSchema = base64Url(KIB);
const transportsSchema = z.array(z.string().min(1).max(32)).max(8);
// Extension outputs are open-ended; bound their serialised size so an attacker cannot park a megabyte there.
const clientExtensionResultsSchema = z
  .record(z.string().max(64), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 4 * KIB, 'clientExtensionResults too large');
const authenticatorAttachmentSchema = z.enum(['platform', 'cross-platform']);

export const registrationResponseSchema = z.object({
  id: credentialIdSchema,
  rawId: credentialIdSchema,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64Url(4 * KIB),
    attestationObject: base64Url(16 * KIB),
    authenticatorData: base64Url(16 * KIB).optional(),
    transports: transportsSchema.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64Url(4 * KIB).optional(),
  }),
  authenticatorAttachment: authenticatorAttachmentSchema.optional(),
  clientExtensionResults: clientExtensionResultsSchema.default({}),
});

export const authenticationResponseSchema = z.object({
  id: credentialIdSchema,
  rawId: credentialIdSchema,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64Url(4 * KIB),
    authenticatorData: base64Url(4 * KIB),
    signature: base64Url(2 * KIB),
    // WebAuthn caps user.id at 64 bytes; null is what some clients send for "none".
    userHandle: base64Url(64).nullish(),
  }),
  authenticatorAttachment: authenticatorAttachmentSchema.optional(),
  clientExtensionResults: clientExtensionResultsSchema.default({}),
});

// ---------------------------------------------------------------------------------------------------------
// User handle
// ---------------------------------------------------------------------------------------------------------

const MAX_USER_HANDLE_BYTES = 64;

/**
 * The user handle is the UTF-8 bytes of Tessera's user id (an opaque, random UUID, never an email), so it is
 * stable for the life of the account and maps back to the account without a lookup table. WebAuthn forbids
 * personal data in the handle because authenticators may show or sync it; a user id holds none.
 */
export function userHandleFromUserId(userId: string): Uint8Array {
  const bytes = new TextEncoder().encode(userId);
  if (bytes.length === 0 || bytes.length > MAX_USER_HANDLE_BYTES) {
    throw new RangeError(`user id must encode to 1..${MAX_USER_HANDLE_BYTES} bytes to be a WebAuthn user handle`);
  }
  if (userId.includes('@')) {
    throw new RangeError('user handle must be opaque: pass the user id, not an email address');
  }
  return bytes;
}

/** Inverse of userHandleFromUserId for a base64url userHandle from an assertion; null when unusable. */
export function userIdFromUserHandle(userHandle: string): string | null {
  try {
    const bytes = isoBase64URL.toBuffer(userHandle);
    if (bytes.length === 0 || bytes.length > MAX_USER_HANDLE_BYTES) return null;
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers for callers that must look inside a response before choosing a credential
// ---------------------------------------------------------------------------------------------------------

/** The credential id an assertion claims, or null if the response is not shaped like one. Never throws. */
export function extractCredentialId(response: unknown): string | null {
  const parsed = authenticationResponseSchema.safeParse(response);
  if (!parsed.success || parsed.data.id !== parsed.data.rawId) return null;
  return parsed.data.id;
}

/**
 * The base64url userHandle of a discoverable assertion, or null when absent or malformed. Never throws.
 * Unauthenticated until verifyAuthentication succeeds: use it only to pick the account to verify against.
 */
export function extractUserHandle(response: unknown): string | null {
  const parsed = authenticationResponseSchema.safeParse(response);
  if (!parsed.success) return null;
  const handle = parsed.data.response.userHandle;
  return handle === undefined || handle === null || handle.length === 0 ? null : handle;
}
