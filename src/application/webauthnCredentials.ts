// What the WebAuthn use cases share: verifying a new credential, claiming its id and registering it (a key added to an
// account, or a new account's passkey), the keys a ceremony lists, who owns a credential id, and the token that binds
// an anonymous ceremony (passkey login, passkey signup) to the client that began it.
import { z } from 'zod';
import { newSessionToken } from '../crypto/tokens.js';
import type { CredentialDescriptor } from '../crypto/webauthn/ceremony.js';
import { verifyRegistration, type RegisteredCredential } from '../crypto/webauthn/registration.js';
import type { Queryable } from '../db/index.js';
import { authenticatorsAggregate, webauthnCredentialAggregate } from '../domain/authenticators/aggregate.js';
import type { AuthenticatorEvent, RecoveryCodesGenerated } from '../domain/authenticators/events.js';
import type { AuthenticatorsState } from '../domain/authenticators/state.js';
import { refusalAtRegistration } from '../domain/authenticators/aaguidPolicy.js';
import { DomainError } from '../domain/shared/errors.js';
import { handle, load, type Handled } from './commandHandler.js';
import type { Deps, WriteDeps } from './deps.js';
import type { RequestFacts } from './request.js';

/** Nobody is signed in yet: the ceremony is bound to a 256-bit token only the client that began it holds. */
export function newCeremonyToken(): string {
  return newSessionToken();
}

export const ceremonyTokenSchema = z.string().min(16).max(128).nullish();

/** The user's keys, for a ceremony's allow or exclude list. */
export function credentialDescriptors(state: AuthenticatorsState): CredentialDescriptor[] {
  return state.webauthn.map((c) => ({ id: c.credentialId, transports: c.transports }));
}

/**
 * Verifies a registration response against the challenge the caller has already consumed (so a failed registration
 * cannot be retried with it). `what` names the credential in the error: "security key" or "passkey".
 */
export async function verifyNewCredential(
  deps: Pick<Deps, 'config' | 'store' | 'clock'>,
  input: { response: unknown; expectedChallenge: string; requireUserVerification: boolean },
  what: string,
  owner: { userId: string; request: RequestFacts },
): Promise<RegisteredCredential> {
  const verification = await verifyRegistration({ config: deps.config.webauthn, ...input });
  if (!verification.verified) throw new DomainError('WEBAUTHN_VERIFICATION_FAILED', `The ${what} could not be verified (${verification.reason}).`);
  const { credential } = verification;
  // The AAGUID lists (enforced only with direct attestation): a refused key is recorded, with its AAGUID, and never
  // registered; the refusal commits on its own before the answer.
  const refusal = refusalAtRegistration(deps.config.aaguid, credential.aaguid, credential.attestationVerified);
  if (refusal !== null) {
    const { userId, request } = owner;
    await deps.store.transactionWithRetry((tx) => handle(deps, tx, authenticatorsAggregate, userId, {
      type: 'RegisterWebAuthn',
      data: {
        userId, authenticatorId: '', isPasswordless: false, name: '', recoveryCodeSet: null, now: deps.clock.now().toISOString(),
        attestationVerified: credential.attestationVerified, refusal,
        credential: { id: credential.id, publicKey: credential.publicKey, counter: credential.counter, transports: credential.transports, aaguid: credential.aaguid, backupEligible: credential.backupEligible, backedUp: credential.backedUp },
      },
    }, request));
    throw new DomainError('AUTHENTICATOR_NOT_ALLOWED', refusal === 'AAGUID_BLOCKED' ? 'This kind of security key is blocked here.' : 'Only approved security keys can be registered here.');
  }
  return credential;
}

export interface NewCredential {
  userId: string;
  authenticatorId: string;
  isPasswordless: boolean;
  name: string;
  credential: RegisteredCredential;
  /** Used only when this key is the user's first factor. */
  recoveryCodeSet: RecoveryCodesGenerated | null;
}

/**
 * The credential id's claim stream and RegisterWebAuthn on the user's authenticators stream, in the caller's
 * transaction: of two accounts racing to register one credential id, exactly one wins (the other answers
 * CREDENTIAL_ALREADY_REGISTERED).
 */
export async function claimAndRegisterIn(
  deps: WriteDeps, tx: Queryable, input: NewCredential, request: RequestFacts,
): Promise<Handled<AuthenticatorsState, AuthenticatorEvent>> {
  const { credential, userId, authenticatorId } = input;
  const now = deps.clock.now().toISOString();
  await handle(deps, tx, webauthnCredentialAggregate, credential.id, { type: 'ClaimWebAuthnCredential', data: { userId, authenticatorId, now } }, request);
  return handle(deps, tx, authenticatorsAggregate, userId, {
    type: 'RegisterWebAuthn',
    data: {
      userId, authenticatorId, isPasswordless: input.isPasswordless, name: input.name, recoveryCodeSet: input.recoveryCodeSet, now,
      attestationVerified: credential.attestationVerified, refusal: null,
      credential: {
        id: credential.id, publicKey: credential.publicKey, counter: credential.counter, transports: credential.transports,
        aaguid: credential.aaguid, backupEligible: credential.backupEligible, backedUp: credential.backedUp,
      },
    },
  }, request);
}

/** The account a credential id was registered to (its claim stream), or null. Unauthenticated until verified. */
export async function findCredentialOwner(deps: Pick<Deps, 'store'>, credentialId: string, q?: Queryable): Promise<string | null> {
  return (await load(deps.store, webauthnCredentialAggregate, credentialId, q)).state.claimedBy;
}
