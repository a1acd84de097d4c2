// The only module that touches @simplewebauthn/server. Everything the rest of Tessera needs from WebAuthn
// goes through these functions, so a library upgrade or swap changes one file.
//
// What the library does NOT do, and callers must (STACK.md): make challenges single-use and expiring,
// check that an asserted credential belongs to the user the ceremony was started for, map a userHandle
// back to an account, enforce credential-id uniqueness, and decide what a counter regression means.
import { randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type {
  AuthenticationResponseJSON,
  CredentialDeviceType,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeAttestationObject, isoBase64URL } from '@simplewebauthn/server/helpers';
import { z } from 'zod';

export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
};

// ---------------------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------------------

export interface WebAuthnConfig {
  /** Relying party id: a registrable domain (or `localhost`), never a URL. */
  readonly rpId: string;
  readonly rpName: string;
  /** Exact origins (scheme://host[:port]) a clientDataJSON may carry. */
  readonly origins: readonly string[];
  readonly allowInsecureOrigin: boolean;
}

export interface LoadWebAuthnConfigOptions {
  /** The origin the server itself listens on (e.g. built from PORT); added to the default origin list. */
  readonly defaultOrigin?: string;
}

export class WebAuthnConfigError extends Error {
  override readonly name = 'WebAuthnConfigError';
}

const DEFAULT_ORIGIN = 'http://localhost:4000';
// Browsers treat these hosts as secure contexts over plain http, so WebAuthn works there without TLS.
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Reads WEBAUTHN_RP_ID, WEBAUTHN_RP_NAME, WEBAUTHN_ORIGINS and WEBAUTHN_ALLOW_INSECURE_ORIGIN.
 * Throws WebAuthnConfigError at startup rather than letting a misconfigured origin list silently accept
 * assertions phished through another site or sent over plain http.
 */
export function loadWebAuthnConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadWebAuthnConfigOptions = {},
): WebAuthnConfig {
  const rpId = (env.WEBAUTHN_RP_ID ?? '').trim().toLowerCase() || 'localhost';
  const rpName = (env.WEBAUTHN_RP_NAME ?? '').trim() || 'Tessera';
  const allowInsecureOrigin = ['true', '1'].includes((env.WEBAUTHN_ALLOW_INSECURE_ORIGIN ?? '').trim().toLowerCase());
  assertValidRpId(rpId);

  const listed = (env.WEBAUTHN_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  const fallback = [DEFAULT_ORIGIN, ...(options.defaultOrigin === undefined ? [] : [options.defaultOrigin])];
  const requested = listed.length > 0 ? listed : fallback;

  const origins = [...new Set(requested.map((origin) => normaliseOrigin(origin, rpId, allowInsecureOrigin)))];
  return { rpId, rpName, origins, allowInsecureOrigin };
}

function assertValidRpId(rpId: string): void {
  // An RP ID is a bare host name; a scheme, port or path here is a configuration mistake that would make
  // every ceremony fail with a confusing RP_ID_MISMATCH.
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId) || rpId.length > 253) {
    throw new WebAuthnConfigError(`WEBAUTHN_RP_ID "${rpId}" is not a host name (no scheme, port or path)`);
  }
}

function normaliseOrigin(raw: string, rpId: string, allowInsecureOrigin: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebAuthnConfigError(`WebAuthn origin "${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebAuthnConfigError(`WebAuthn origin "${raw}" must use https (or http on localhost)`);
  }
  // clientDataJSON carries a bare origin; a path or query here would never match anything.
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new WebAuthnConfigError(`WebAuthn origin "${raw}" must be scheme://host[:port] with no path`);
  }
  const host = url.hostname;
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(host) && !allowInsecureOrigin) {
    throw new WebAuthnConfigError(
      `WebAuthn origin "${raw}" uses plain http on a non-localhost host; use https or set WEBAUTHN_ALLOW_INSECURE_ORIGIN=true`,
    );
  }
  // WebAuthn §5.1.3: the RP ID must be the origin's effective domain or a registrable suffix of it.
  if (host !== rpId && !host.endsWith(`.${rpId}`)) {
    throw new WebAuthnConfigError(`WebAuthn origin "${raw}" is not on RP ID "${rpId}" or one of its subdomains`);
  }
  return url.origin;
}

// ---------------------------------------------------------------------------------------------------------
// Input shape (the GraphQL edge validates with these before anything is decoded)
// ---------------------------------------------------------------------------------------------------------

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
// Registration
// ---------------------------------------------------------------------------------------------------------

export interface CredentialDescriptor {
  readonly id: string;
  readonly transports?: readonly string[];
}

export interface CreateRegistrationOptionsInput {
  readonly config: WebAuthnConfig;
  /** Only for tests; production lets this module draw 32 random bytes. */
  readonly challenge?: Uint8Array;
  readonly user: { readonly id: string; readonly name: string; readonly displayName?: string };
  /** The user's existing credentials, so one authenticator cannot be registered twice. */
  readonly excludeCredentials: readonly CredentialDescriptor[];
  /** A passkey (resident key, user verification) rather than a second factor. */
  readonly passwordless: boolean;
  readonly timeoutMs?: number;
}

export interface CeremonyOptions<T> {
  readonly options: T;
  /** Base64url challenge exactly as it appears in clientDataJSON; the caller stores it single-use. */
  readonly challenge: string;
}

const CHALLENGE_BYTES = 32;
const MIN_CHALLENGE_BYTES = 16;
const DEFAULT_TIMEOUT_MS = 300_000;
// ES256, EdDSA, RS256: the first two cover every current authenticator, RS256 covers Windows Hello.
const SUPPORTED_ALGORITHM_IDS = [-7, -8, -257];

function drawChallenge(given: Uint8Array | undefined): Uint8Array {
  // Challenges must be unpredictable (WebAuthn §13.4.3); a short test value would weaken that silently.
  if (given !== undefined && given.length < MIN_CHALLENGE_BYTES) {
    throw new RangeError(`challenge must be at least ${MIN_CHALLENGE_BYTES} bytes`);
  }
  return given ?? new Uint8Array(randomBytes(CHALLENGE_BYTES));
}

export async function createRegistrationOptions(
  input: CreateRegistrationOptionsInput,
): Promise<CeremonyOptions<PublicKeyCredentialCreationOptionsJSON>> {
  const challenge = drawChallenge(input.challenge);
  const options = await generateRegistrationOptions({
    rpName: input.config.rpName,
    rpID: input.config.rpId,
    userName: input.user.name,
    userDisplayName: input.user.displayName ?? input.user.name,
    userID: toArrayBufferBacked(userHandleFromUserId(input.user.id)),
    // Passed as bytes: the library would UTF-8 encode a string challenge, not base64url-decode it.
    challenge: toArrayBufferBacked(challenge),
    timeout: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // Tessera makes no trust decision on attestation, so asking for it would only leak device details.
    attestationType: 'none',
    excludeCredentials: input.excludeCredentials.map(toLibraryDescriptor),
    authenticatorSelection: input.passwordless
      ? { residentKey: 'required', userVerification: 'required' }
      : { residentKey: 'discouraged', userVerification: 'preferred' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
  });
  return { options, challenge: options.challenge };
}

export interface RegisteredCredential {
  readonly id: string;
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: string[];
  readonly aaguid: string;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
  readonly deviceType: CredentialDeviceType;
  readonly userVerified: boolean;
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

export type RegistrationVerification =
  | { readonly verified: true; readonly credential: RegisteredCredential }
  | VerificationFailure;

export interface VerifyRegistrationInput {
  readonly config: WebAuthnConfig;
  readonly response: unknown;
  readonly expectedChallenge: string;
  readonly requireUserVerification: boolean;
}

/**
 * Never throws for anything an attacker controls: a bad response is a `{ verified: false, reason }`
 * so the caller can record the failure before answering.
 */
export async function verifyRegistration(input: VerifyRegistrationInput): Promise<RegistrationVerification> {
  const parsed = registrationResponseSchema.safeParse(input.response);
  if (!parsed.success) return failure('MALFORMED');
  const response = parsed.data;

  // Our own checks come first only to name the reason with a stable code; the library re-checks all of
  // them and stays the authority on whether the response verifies.
  let authData: Uint8Array;
  try {
    const attestation = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject));
    const raw = attestation.get('authData');
    if (!(raw instanceof Uint8Array)) return failure('MALFORMED');
    authData = raw;
  } catch {
    return failure('MALFORMED');
  }
  const precheck = await precheckCeremony({
    config: input.config,
    clientDataJSON: response.response.clientDataJSON,
    authData,
    expectedType: 'webauthn.create',
    expectedChallenge: input.expectedChallenge,
    requireUserVerification: input.requireUserVerification,
  });
  if (precheck !== null) return precheck;

  try {
    const result = await verifyRegistrationResponse({
      response: toLibraryRegistration(response),
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: [...input.config.origins],
      // Always passed: the library skips the RP ID check entirely when this is omitted.
      expectedRPID: input.config.rpId,
      expectedType: 'webauthn.create',
      requireUserPresence: true,
      requireUserVerification: input.requireUserVerification,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
    });
    if (!result.verified) return failure('VERIFICATION_FAILED');
    const info = result.registrationInfo;
    const flags = parseAuthenticatorData(authData)?.flags;
    return {
      verified: true,
      credential: {
        id: info.credential.id,
        publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
        counter: info.credential.counter,
        transports: [...(info.credential.transports ?? [])],
        aaguid: info.aaguid,
        backupEligible: flags?.be ?? false,
        backedUp: flags?.bs ?? false,
        deviceType: info.credentialDeviceType,
        userVerified: info.userVerified,
      },
    };
  } catch (error) {
    return failure(reasonFromLibraryError(error));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------------------

export interface CreateAuthenticationOptionsInput {
  readonly config: WebAuthnConfig;
  /** Empty or absent for a discoverable (passkey) login, where the authenticator chooses the account. */
  readonly allowCredentials?: readonly CredentialDescriptor[];
  readonly userVerification: 'required' | 'preferred';
  readonly challenge?: Uint8Array;
  readonly timeoutMs?: number;
}

export async function createAuthenticationOptions(
  input: CreateAuthenticationOptionsInput,
): Promise<CeremonyOptions<PublicKeyCredentialRequestOptionsJSON>> {
  const challenge = drawChallenge(input.challenge);
  const options = await generateAuthenticationOptions({
    rpID: input.config.rpId,
    allowCredentials: (input.allowCredentials ?? []).map(toLibraryDescriptor),
    challenge: toArrayBufferBacked(challenge),
    timeout: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    userVerification: input.userVerification,
  });
  return { options, challenge: options.challenge };
}

export interface StoredCredential {
  readonly id: string;
  /** Base64url COSE public key, as returned by verifyRegistration. */
  readonly publicKey: string;
  readonly counter: number;
  readonly transports?: readonly string[];
}

export type AuthenticationVerification =
  | {
      readonly verified: true;
      /** The authenticator's signature counter; compare with the stored one (see counterRegressed). */
      readonly newCounter: number;
      readonly userVerified: boolean;
      readonly backupEligible: boolean;
      readonly backedUp: boolean;
    }
  | VerificationFailure;

export interface VerifyAuthenticationInput {
  readonly config: WebAuthnConfig;
  readonly response: unknown;
  readonly expectedChallenge: string;
  readonly credential: StoredCredential;
  readonly requireUserVerification: boolean;
}

/**
 * Counter policy: this function does NOT judge the signature counter. The library throws on a counter
 * that did not increase, which would turn a possible clone into an indistinguishable error; instead we
 * hand it counter 0 (which disables its check) and return the authenticator's counter as `newCounter`.
 * The domain compares it with the stored counter (counterRegressed) and records WebAuthnCloneSuspected.
 * A verified result therefore means "signature, challenge, origin, RP ID and flags are good", nothing more.
 */
export async function verifyAuthentication(input: VerifyAuthenticationInput): Promise<AuthenticationVerification> {
  const parsed = authenticationResponseSchema.safeParse(input.response);
  if (!parsed.success) return failure('MALFORMED');
  const response = parsed.data;

  // The library verifies against whichever key we give it and never compares ids; a response for another
  // credential must not be checked against this one's key.
  if (response.id !== input.credential.id || response.rawId !== input.credential.id) {
    return failure('CREDENTIAL_MISMATCH');
  }

  let authData: Uint8Array;
  let publicKey: Uint8Array;
  try {
    authData = isoBase64URL.toBuffer(response.response.authenticatorData);
    publicKey = isoBase64URL.toBuffer(input.credential.publicKey);
  } catch {
    return failure('MALFORMED');
  }
  const parsedAuthData = parseAuthenticatorData(authData);
  if (parsedAuthData === null) return failure('MALFORMED');

  const precheck = await precheckCeremony({
    config: input.config,
    clientDataJSON: response.response.clientDataJSON,
    authData,
    expectedType: 'webauthn.get',
    expectedChallenge: input.expectedChallenge,
    requireUserVerification: input.requireUserVerification,
  });
  if (precheck !== null) return precheck;

  try {
    const result = await verifyAuthenticationResponse({
      response: toLibraryAuthentication(response),
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: [...input.config.origins],
      expectedRPID: input.config.rpId,
      expectedType: 'webauthn.get',
      credential: {
        id: input.credential.id,
        publicKey: toArrayBufferBacked(publicKey),
        // 0 switches off the library's own regression check; see the function comment.
        counter: 0,
        transports: toTransports(input.credential.transports),
      },
      requireUserVerification: input.requireUserVerification,
    });
    if (!result.verified) return failure('SIGNATURE_INVALID');
    return {
      verified: true,
      newCounter: result.authenticationInfo.newCounter,
      userVerified: result.authenticationInfo.userVerified,
      backupEligible: parsedAuthData.flags.be,
      backedUp: parsedAuthData.flags.bs,
    };
  } catch (error) {
    return failure(reasonFromLibraryError(error));
  }
}

/**
 * WebAuthn §6.1.1: when either counter is non-zero, a received counter that is not greater than the stored
 * one means the credential may have been cloned. Both zero means the authenticator keeps no counter.
 */
export function counterRegressed(storedCounter: number, receivedCounter: number): boolean {
  return (storedCounter > 0 || receivedCounter > 0) && receivedCounter <= storedCounter;
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

// ---------------------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------------------

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
async function precheckCeremony(input: PrecheckInput): Promise<VerificationFailure | null> {
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
  const expectedRpIdHash = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(input.config.rpId)),
  );
  if (!bytesEqual(authData.rpIdHash, expectedRpIdHash)) return failure('RP_ID_MISMATCH');
  if (!authData.flags.up) return failure('USER_NOT_PRESENT');
  if (input.requireUserVerification && !authData.flags.uv) return failure('USER_NOT_VERIFIED');
  return null;
}

/** Fallback mapping for anything the precheck did not catch; library messages are not a stable API. */
function reasonFromLibraryError(error: unknown): WebAuthnFailureReason {
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

function failure(reason: WebAuthnFailureReason): VerificationFailure {
  return { verified: false, reason };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index += 1) difference |= (a[index] ?? 0) ^ (b[index] ?? 0);
  return difference === 0;
}

// The library's types want Uint8Array<ArrayBuffer>; a copy guarantees that regardless of where bytes came from.
function toArrayBufferBacked(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(new ArrayBuffer(bytes.length));
  copy.set(bytes);
  return copy;
}

function toTransports(transports: readonly string[] | undefined): string[] | undefined {
  return transports === undefined ? undefined : [...transports];
}

function toLibraryDescriptor(descriptor: CredentialDescriptor): { id: string; transports?: string[] } {
  return descriptor.transports === undefined
    ? { id: descriptor.id }
    : { id: descriptor.id, transports: [...descriptor.transports] };
}

function toLibraryRegistration(response: z.infer<typeof registrationResponseSchema>): RegistrationResponseJSON {
  return {
    id: response.id,
    rawId: response.rawId,
    type: response.type,
    response: {
      clientDataJSON: response.response.clientDataJSON,
      attestationObject: response.response.attestationObject,
      ...(response.response.transports === undefined
        ? {}
        : { transports: toTransports(response.response.transports) }),
    },
    ...(response.authenticatorAttachment === undefined
      ? {}
      : { authenticatorAttachment: response.authenticatorAttachment }),
    // Extension outputs are not used by Tessera; passing none keeps unvalidated data away from the library.
    clientExtensionResults: {},
  };
}

function toLibraryAuthentication(response: z.infer<typeof authenticationResponseSchema>): AuthenticationResponseJSON {
  const userHandle = response.response.userHandle;
  return {
    id: response.id,
    rawId: response.rawId,
    type: response.type,
    response: {
      clientDataJSON: response.response.clientDataJSON,
      authenticatorData: response.response.authenticatorData,
      signature: response.response.signature,
      ...(userHandle === undefined || userHandle === null ? {} : { userHandle }),
    },
    ...(response.authenticatorAttachment === undefined
      ? {}
      : { authenticatorAttachment: response.authenticatorAttachment }),
    clientExtensionResults: {},
  };
}
