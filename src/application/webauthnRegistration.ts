// RegisterWebAuthn: a security key (second factor) or a passkey added to a signed-in account. The challenge is bound
// to the session that began the ceremony and consumed before the response is verified. The credential id's claim, the
// key on the authenticators stream and the session's rotation to AAL2 (it has just proven the new key, as TOTP
// activation does) commit in one transaction, retried as a whole when a racing writer wins.
import { z } from 'zod';
import { newId } from '../crypto/tokens.js';
import { createRegistrationOptions, type PublicKeyCredentialCreationOptionsJSON } from '../crypto/webauthn/registration.js';
import { registrationResponseSchema } from '../crypto/webauthn/responses.js';
import { bindings, consumeChallenge, storeChallenge } from '../db/webauthnChallenges.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import type { AuthenticatorsState } from '../domain/authenticators/state.js';
import { DomainError } from '../domain/shared/errors.js';
import { recoveryCodesOffered, requireMayAddFactor, requireSupportedFactor } from './authorization.js';
import type { Caller } from './caller.js';
import { load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { newRecoveryCodeSet } from './recoveryCodes.js';
import type { RequestFacts } from './request.js';
import { rotateToAal2In, type IssuedToken } from './sessions.js';
import { nameSchema } from './validation.js';
import { claimAndRegisterIn, credentialDescriptors, verifyNewCredential } from './webauthnCredentials.js';

export const beginWebAuthnRegistrationInputSchema = z.object({ passwordless: z.boolean() });
export const registerWebAuthnInputSchema = z.object({ name: nameSchema, credential: registrationResponseSchema });

type RegistrationDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'db'>;

/** The creation options; adding a factor next to an existing one is a sensitive change, the first needs a recent session. */
export async function beginWebAuthnRegistration(
  deps: RegistrationDeps, caller: Caller, input: z.output<typeof beginWebAuthnRegistrationInputSchema>,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  requireSupportedFactor(deps, 'webauthn');
  const auth = await requireMayAddFactor(deps, caller);
  const userId = auth.user.id;
  const { state } = await load(deps.store, authenticatorsAggregate, userId);
  const { options, challenge } = await createRegistrationOptions({
    config: deps.config.webauthn,
    user: { id: userId, name: auth.user.email },
    excludeCredentials: credentialDescriptors(state),
    passwordless: input.passwordless,
  });
  await storeChallenge(deps, { binding: bindings.session(auth.session.id), purpose: 'registration', challenge, userId, passwordless: input.passwordless });
  return options;
}

export interface WebAuthnRegistration {
  authenticatorId: string;
  /** Shown once, only when this key was the user's first factor. */
  recoveryCodes: string[] | null;
  /** The session's new token: registration proves the new key, so the session is rotated to AAL2. */
  session: IssuedToken;
  /** The user's factors with the new key. */
  authenticators: AuthenticatorsState;
}

export async function registerWebAuthn(
  deps: RegistrationDeps & Pick<Deps, 'secrets'>,
  caller: Caller,
  input: z.output<typeof registerWebAuthnInputSchema>,
  request: RequestFacts,
): Promise<WebAuthnRegistration> {
  requireSupportedFactor(deps, 'webauthn');
  const auth = await requireMayAddFactor(deps, caller);
  const userId = auth.user.id;
  // Consumed first, so a failed registration cannot be retried with the same challenge.
  const stored = await consumeChallenge(deps, { binding: bindings.session(auth.session.id), purpose: 'registration', userId });
  if (!stored) throw new DomainError('CHALLENGE_INVALID', 'The WebAuthn ceremony expired or was already used. Start again.');
  const credential = await verifyNewCredential(deps, { response: input.credential, expectedChallenge: stored.challenge, requireUserVerification: stored.passwordless }, 'security key', { userId, request });
  const authenticatorId = newId();
  const set = recoveryCodesOffered(deps) ? newRecoveryCodeSet(deps, userId, deps.clock.now()) : null;
  const outcome = await deps.store.transactionWithRetry(async (tx) => {
    const { events, state } = await claimAndRegisterIn(deps, tx, { userId, authenticatorId, isPasswordless: stored.passwordless, name: input.name, credential, recoveryCodeSet: set?.event ?? null }, request);
    const session = await rotateToAal2In(deps, tx, auth.session.id, 'webauthn_registered', request);
    return { session, authenticators: state, withCodes: events.some((e) => e.type === 'RecoveryCodesGenerated') };
  });
  return { authenticatorId, recoveryCodes: set && outcome.withCodes ? set.codes : null, session: outcome.session, authenticators: outcome.authenticators };
}
