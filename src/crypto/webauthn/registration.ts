// The registration ceremony (navigator.credentials.create): its options, and the verification of the new credential.
// With authentication.ts, the only code that calls @simplewebauthn/server's ceremony functions.
import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { CredentialDeviceType, PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { decodeAttestationObject, isoBase64URL } from '@simplewebauthn/server/helpers';
import type { z } from 'zod';
import { parseAuthenticatorData } from './authenticatorData.js';
// SimpleWebAuthn's digests and ECDSA verifies done by node:crypto in place (installed when imported).
import './nodeWebCrypto.js';
import {
  DEFAULT_TIMEOUT_MS,
  drawChallenge,
  failure,
  precheckCeremony,
  reasonFromLibraryError,
  toArrayBufferBacked,
  toLibraryDescriptor,
  toTransports,
  type CeremonyOptions,
  type CredentialDescriptor,
  type VerificationFailure,
} from './ceremony.js';
import { attestationVouches, parseRootCertificates } from './attestation.js';
import type { WebAuthnConfig } from './config.js';
import type { X509Certificate } from 'node:crypto';
import { registrationResponseSchema, userHandleFromUserId } from './responses.js';

export type { PublicKeyCredentialCreationOptionsJSON };

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

// ES256, EdDSA, RS256: the first two cover every current authenticator, RS256 covers Windows Hello.
const SUPPORTED_ALGORITHM_IDS = [-7, -8, -257];

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
    // Without AAGUID lists Tessera makes no trust decision on attestation, so asking for it would only leak device
    // details: `direct` only when WEBAUTHN_ATTESTATION says so.
    attestationType: input.config.attestation === 'direct' ? 'direct' : 'none',
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
  /** A trusted root vouched for the AAGUID (packed attestation chained to WEBAUTHN_ATTESTATION_ROOTS). */
  readonly attestationVerified: boolean;
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
  let fmt: unknown;
  let x5c: unknown;
  try {
    const attestation = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject));
    const raw = attestation.get('authData');
    if (!(raw instanceof Uint8Array)) return failure('MALFORMED');
    authData = raw;
    fmt = attestation.get('fmt');
    x5c = attestation.get('attStmt')?.get('x5c');
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
        attestationVerified: input.config.attestation === 'direct' && attestationVouches({ fmt, x5c, roots: rootsOf(input.config), now: new Date() }),
      },
    };
  } catch (error) {
    return failure(reasonFromLibraryError(error));
  }
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

const parsedRoots = new WeakMap<readonly string[], X509Certificate[]>();
function rootsOf(config: WebAuthnConfig): X509Certificate[] {
  const pems = config.attestationRoots ?? [];
  let roots = parsedRoots.get(pems);
  if (!roots) parsedRoots.set(pems, (roots = pems.flatMap((pem) => parseRootCertificates(pem))));
  return roots;
}
