// Passkey signup (MFA_SIGNUP_WEBAUTHN, behind PASSKEY_SIGNUP_ENABLED): an account whose only credential is a passkey.
// Nothing is written when it begins but the challenge, bound to an anonymous ceremony token and carrying the pending
// user id and email. Completion writes the email claim, UserRegistered (no password), the credential claim, the passkey
// with recovery codes and an AAL2 session in ONE transaction: a taken email or credential id rolls all of it back.
import { z } from 'zod';
import { newId } from '../crypto/tokens.js';
import { createRegistrationOptions, type PublicKeyCredentialCreationOptionsJSON } from '../crypto/webauthn/registration.js';
import { registrationResponseSchema } from '../crypto/webauthn/responses.js';
import { bindings, consumeChallenge, storeChallenge } from '../db/webauthnChallenges.js';
import { DomainError } from '../domain/shared/errors.js';
import { findUserByEmail } from '../projections/users.js';
import type { Caller } from './caller.js';
import type { Deps } from './deps.js';
import { recoveryCodesOffered, requireSupportedFactor } from './authorization.js';
import { newRecoveryCodeSet } from './recoveryCodes.js';
import { actingAs, type RequestFacts } from './request.js';
import { startSessionIn, type IssuedSession } from './sessions.js';
import { registerUserIn } from './signup.js';
import { emailSchema, nameSchema, parseInput } from './validation.js';
import { ceremonyTokenSchema, claimAndRegisterIn, newCeremonyToken, verifyNewCredential } from './webauthnCredentials.js';

export const beginPasskeySignupInputSchema = z.object({ email: emailSchema });
export const completePasskeySignupInputSchema = z.object({ credential: registrationResponseSchema, ceremonyToken: ceremonyTokenSchema, name: nameSchema.nullish() });

type PasskeySignupDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'db' | 'personalData' | 'secrets'>;

export interface PasskeySignupOptions {
  creationOptions: PublicKeyCredentialCreationOptionsJSON;
  /** Binds the ceremony to this client: handed back with the new credential (browsers: in a cookie). */
  ceremonyToken: string;
}

/**
 * The options for a passkey that will be a new account's only credential: a fresh user id (it becomes the passkey's
 * userHandle), resident key and user verification required.
 */
export async function beginPasskeySignup(deps: PasskeySignupDeps & Pick<Deps, 'attempts'>, caller: Caller, input: unknown, request: RequestFacts): Promise<PasskeySignupOptions> {
  if (!deps.config.passkeySignupEnabled) throw new DomainError('FEATURE_DISABLED');
  requireSupportedFactor(deps, 'webauthn');
  const { email } = parseInput(beginPasskeySignupInputSchema, input);
  if (caller.kind === 'session') throw new DomainError('ALREADY_AUTHENTICATED');
  // An anonymous request that writes (the challenge): paid from the client address's budget.
  await deps.attempts.consumeAddress(request.clientAddress);
  // As signup answers: a taken address is told now rather than after the passkey was made. Completion checks again.
  if (await findUserByEmail(deps.db, deps.personalData.hashes.email(email))) throw new DomainError('EMAIL_TAKEN');
  const userId = newId();
  const ceremonyToken = newCeremonyToken();
  const { options, challenge } = await createRegistrationOptions({
    config: deps.config.webauthn, user: { id: userId, name: email }, excludeCredentials: [], passwordless: true,
  });
  await storeChallenge(deps, { binding: bindings.ceremony(ceremonyToken), purpose: 'passkey_signup', challenge, userId, passwordless: true, email: sealPendingEmail(deps, userId, email) });
  return { creationOptions: options, ceremonyToken };
}

export interface PasskeySignup {
  userId: string;
  session: IssuedSession;
  /** Generated with the passkey and shown once. */
  recoveryCodes: string[];
}

/**
 * The challenge is consumed first (single use, whatever follows); the registration is verified with user verification
 * required; then the one transaction. `input` is the credential, an optional name and, from app clients, the ceremony
 * token; a browser's token arrives in its ceremony cookie instead (`ceremonyCookie`).
 */
export async function completePasskeySignup(
  deps: PasskeySignupDeps & Pick<Deps, 'secrets' | 'attempts'>, caller: Caller, input: unknown, ceremony: { ceremonyCookie: string | undefined }, request: RequestFacts,
): Promise<PasskeySignup> {
  if (!deps.config.passkeySignupEnabled) throw new DomainError('FEATURE_DISABLED');
  requireSupportedFactor(deps, 'webauthn');
  const parsed = parseInput(completePasskeySignupInputSchema, input);
  if (caller.kind === 'session') throw new DomainError('ALREADY_AUTHENTICATED');
  await deps.attempts.consumeAddress(request.clientAddress);
  const ceremonyToken = parsed.ceremonyToken ?? ceremony.ceremonyCookie;
  if (!ceremonyToken) throw new DomainError('CHALLENGE_INVALID');
  const stored = await consumeChallenge(deps, { binding: bindings.ceremony(ceremonyToken), purpose: 'passkey_signup', userId: null });
  if (!stored || !stored.userId || !stored.email) throw new DomainError('CHALLENGE_INVALID', 'The passkey signup expired or was already used. Start again.');
  const userId = stored.userId;
  const credential = await verifyNewCredential(deps, { response: parsed.credential, expectedChallenge: stored.challenge, requireUserVerification: true }, 'passkey', { userId, request: actingAs(request, userId) });
  const email = openPendingEmail(deps, stored.userId, stored.email);
  if (email === null) throw new DomainError('CHALLENGE_INVALID', 'The passkey signup expired or was already used. Start again.');
  const authenticatorId = newId();
  const set = recoveryCodesOffered(deps) ? newRecoveryCodeSet(deps, userId, deps.clock.now()) : null;
  const asUser = actingAs(request, userId);
  const session = await deps.store.transactionWithRetry(async (tx) => {
    await registerUserIn(deps, tx, { userId, email, passwordHash: null }, asUser);
    await claimAndRegisterIn(deps, tx, { userId, authenticatorId, isPasswordless: true, name: parsed.name ?? 'Passkey', credential, recoveryCodeSet: set?.event ?? null }, asUser);
    return startSessionIn(deps, tx, { userId, aal: 2, methods: [{ method: 'passkey', at: deps.clock.now().toISOString() }], enrollOnly: false }, asUser);
  });
  return { userId, session, recoveryCodes: set?.codes ?? [] };
}

/**
 * The pending account has no data key yet (it is created with UserRegistered), so the address waiting with its
 * challenge (five minutes at most) is sealed under the server's secret box, bound to the pending user id.
 */
function sealPendingEmail(deps: Pick<Deps, 'secrets'>, userId: string, email: string): string {
  return deps.secrets.box.seal(email, `passkey-signup-email:${userId}`);
}

function openPendingEmail(deps: Pick<Deps, 'secrets'>, userId: string, sealed: string): string | null {
  try {
    return deps.secrets.box.open(sealed, `passkey-signup-email:${userId}`);
  } catch {
    return null;
  }
}
