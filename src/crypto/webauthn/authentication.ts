// The authentication ceremony (navigator.credentials.get): its options, and the verification of an assertion against
// a stored credential. With registration.ts, the only code that calls @simplewebauthn/server's ceremony functions.
import { generateAuthenticationOptions, verifyAuthenticationResponse } from '@simplewebauthn/server';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
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
import type { WebAuthnConfig } from './config.js';
import { authenticationResponseSchema } from './responses.js';

export type { PublicKeyCredentialRequestOptionsJSON };

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
