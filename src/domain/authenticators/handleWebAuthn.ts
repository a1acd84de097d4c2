// RegisterWebAuthn, AuthenticateWebAuthn (MFA step and step-up), LoginWithPasskey's verification, RenameWebAuthn and
// RemoveWebAuthn. The challenge is consumed and the signature checked before the transaction; the decision (ownership,
// counter, backup eligibility) and its append run inside it, at the expected version of the authenticators stream,
// so two submissions of one assertion cannot both be accepted.
import { createHash } from 'node:crypto';
import type { App } from '../../app.js';
import type { Queryable } from '../../db/index.js';
import {
  createAuthenticationOptions,
  createRegistrationOptions,
  extractCredentialId,
  extractUserHandle,
  userIdFromUserHandle,
  verifyAuthentication,
  verifyRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegisteredCredential,
} from '../../crypto/webauthn.js';
import { hashToken, newId, newSessionToken } from '../../crypto/tokens.js';
import { accountKeyFor } from '../../security/attempts.js';
import { DomainError, type ErrorCode } from '../shared/errors.js';
import type { RequestInfo } from '../shared/request.js';
import { loadAggregate, retryOnConflict, streams } from '../shared/streams.js';
import { loadAuthenticators } from '../login/handle.js';
import { executeSession, startSessionIn, type IssuedSession } from '../session/handle.js';
import { loadUser, registerUserIn } from '../user/handle.js';
import { rolesRequiringMfa } from '../user/policy.js';
import type { AssertionCheck, WebAuthnCommand, WebAuthnPurpose } from './commands.js';
import { assertionErrorCode, decideWebAuthn, decideWebAuthnClaim } from './decideWebAuthn.js';
import type { AuthenticatorEvent, RecoveryCodesGenerated, WebAuthnCredentialClaimed } from './events.js';
import { newRecoveryCodeSet } from './recoveryCodes.js';
import type { AuthenticatorsState, WebAuthnCredentialState } from './state.js';
import { consumeChallenge, storeChallenge, type ChallengePurpose } from './webauthnChallenges.js';

/** Ceremony bindings: whose challenge it is. A challenge begun in one never answers another. */
export const bindings = {
  session: (sessionId: string) => `session:${sessionId}`,
  flow: (flowId: string) => `flow:${flowId}`,
  /** An anonymous passkey ceremony: the hash of the token handed to the client that began it. */
  ceremony: (ceremonyToken: string) => `ceremony:${hashToken(ceremonyToken)}`,
};

function credentialStream(credentialId: string): string {
  return streams.webauthnCredential(createHash('sha256').update(credentialId).digest('hex').slice(0, 40));
}

async function appendAuthenticators(app: App, tx: Queryable, userId: string, version: number, events: AuthenticatorEvent[], request: RequestInfo): Promise<void> {
  if (events.length === 0) return;
  await app.store.append(streams.authenticators(userId), events, { expectedVersion: version, metadata: request.metadata, now: app.clock.now(), tx });
}

function descriptors(state: AuthenticatorsState) {
  return state.webauthn.map((c) => ({ id: c.credentialId, transports: c.transports }));
}

// ---------- registration ----------

export async function beginWebAuthnRegistration(
  app: App,
  input: { userId: string; email: string; sessionId: string; passwordless: boolean },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { state } = await loadAuthenticators(app, input.userId);
  const { options, challenge } = await createRegistrationOptions({
    config: app.config.webauthn,
    user: { id: input.userId, name: input.email },
    excludeCredentials: descriptors(state),
    passwordless: input.passwordless,
  });
  await storeChallenge(app, { binding: bindings.session(input.sessionId), purpose: 'registration', challenge, userId: input.userId, passwordless: input.passwordless });
  return options;
}

export interface WebAuthnRegistration {
  authenticatorId: string;
  /** Shown once, only when this key was the user's first factor. */
  recoveryCodes: string[] | null;
  /** Registration proves the new key, so the session is rotated to AAL2 (as TOTP activation does). */
  sessionToken: string;
}

/**
 * RegisterWebAuthn. The credential id's claim stream and the user's authenticators stream commit in one transaction:
 * of two accounts racing to register one credential id, exactly one wins (the other answers CREDENTIAL_ALREADY_REGISTERED).
 */
export async function registerWebAuthn(
  app: App,
  input: { userId: string; sessionId: string; name: string; response: unknown },
  request: RequestInfo,
): Promise<WebAuthnRegistration> {
  // Consumed first, so a failed registration cannot be retried with the same challenge.
  const stored = await consumeChallenge(app, { binding: bindings.session(input.sessionId), purpose: 'registration', userId: input.userId });
  if (!stored) throw new DomainError('CHALLENGE_INVALID', 'The WebAuthn ceremony expired or was already used. Start again.');
  const verification = await verifyRegistration({
    config: app.config.webauthn, response: input.response, expectedChallenge: stored.challenge, requireUserVerification: stored.passwordless,
  });
  if (!verification.verified) throw new DomainError('WEBAUTHN_VERIFICATION_FAILED', `The security key could not be verified (${verification.reason}).`);
  const credential = verification.credential;
  const authenticatorId = newId();
  const set = newRecoveryCodeSet(app, input.userId, app.clock.now());
  const outcome = await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const now = app.clock.now().toISOString();
      const events = await claimAndRegisterIn(app, tx, { userId: input.userId, authenticatorId, isPasswordless: stored.passwordless, name: input.name, credential, recoveryCodeSet: set.event }, request);
      const token = newSessionToken();
      await executeSession(app, tx, input.sessionId, { type: 'RotateSessionToken', data: { tokenHash: hashToken(token), aal: 2, reason: 'webauthn_registered', now } }, request);
      return { token, withCodes: events.some((e) => e.type === 'RecoveryCodesGenerated') };
    }),
  );
  return { authenticatorId, recoveryCodes: outcome.withCodes ? set.codes : null, sessionToken: outcome.token };
}

/** The credential id's claim stream and RegisterWebAuthn on the user's authenticators stream, in the caller's transaction. */
async function claimAndRegisterIn(
  app: App,
  tx: Queryable,
  input: { userId: string; authenticatorId: string; isPasswordless: boolean; name: string; credential: RegisteredCredential; recoveryCodeSet: RecoveryCodesGenerated },
  request: RequestInfo,
): Promise<AuthenticatorEvent[]> {
  const { credential, userId, authenticatorId } = input;
  const now = app.clock.now().toISOString();
  const claimStream = credentialStream(credential.id);
  const claim = await loadAggregate(app.store, claimStream, { claimedBy: null as string | null }, (_s, e: WebAuthnCredentialClaimed) => ({ claimedBy: e.data.userId }), tx);
  const claimed = decideWebAuthnClaim(claim.state.claimedBy, { userId, authenticatorId, now });
  await app.store.append(claimStream, claimed, { expectedVersion: claim.version, metadata: request.metadata, now: app.clock.now(), tx });
  const { state, version } = await loadAuthenticators(app, userId, tx);
  const command: WebAuthnCommand = {
    type: 'RegisterWebAuthn',
    data: {
      userId, authenticatorId, isPasswordless: input.isPasswordless, name: input.name, recoveryCodeSet: input.recoveryCodeSet, now,
      credential: {
        id: credential.id, publicKey: credential.publicKey, counter: credential.counter, transports: credential.transports,
        aaguid: credential.aaguid, backupEligible: credential.backupEligible, backedUp: credential.backedUp,
      },
    },
  };
  const events = decideWebAuthn(command, state);
  await appendAuthenticators(app, tx, userId, version, events, request);
  return events;
}

// ---------- passkey signup (MFA_SIGNUP_WEBAUTHN) ----------

/**
 * The options for a passkey that will be a new account's only credential: a fresh user id (it becomes the passkey's
 * userHandle), resident key and user verification required. Nothing is written but the challenge, which carries the
 * pending user id and email and is bound to the anonymous ceremony token.
 */
export async function beginPasskeySignup(app: App, input: { email: string; ceremonyToken: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const userId = newId();
  const { options, challenge } = await createRegistrationOptions({
    config: app.config.webauthn, user: { id: userId, name: input.email }, excludeCredentials: [], passwordless: true,
  });
  await storeChallenge(app, { binding: bindings.ceremony(input.ceremonyToken), purpose: 'passkey_signup', challenge, userId, passwordless: true, email: input.email });
  return options;
}

export interface PasskeySignup {
  userId: string;
  session: IssuedSession;
  recoveryCodes: string[];
}

/**
 * Completes a passkey signup. The challenge is consumed first (single use, whatever follows); the registration is
 * verified with user verification required; then ONE transaction writes the email claim, UserRegistered (no password),
 * the credential claim, WebAuthnCredentialRegistered (a passkey) with RecoveryCodesGenerated, and an AAL2 session
 * (method passkey). A taken email or credential id rolls all of it back.
 */
export async function completePasskeySignup(app: App, input: { ceremonyToken: string; response: unknown; name: string }, request: RequestInfo): Promise<PasskeySignup> {
  const stored = await consumeChallenge(app, { binding: bindings.ceremony(input.ceremonyToken), purpose: 'passkey_signup', userId: null });
  if (!stored || !stored.userId || !stored.email) throw new DomainError('CHALLENGE_INVALID', 'The passkey signup expired or was already used. Start again.');
  const verification = await verifyRegistration({ config: app.config.webauthn, response: input.response, expectedChallenge: stored.challenge, requireUserVerification: true });
  if (!verification.verified) throw new DomainError('WEBAUTHN_VERIFICATION_FAILED', `The passkey could not be verified (${verification.reason}).`);
  const userId = stored.userId;
  const email = stored.email;
  const authenticatorId = newId();
  const set = newRecoveryCodeSet(app, userId, app.clock.now());
  const withActor = { ...request, metadata: { ...request.metadata, actor: userId } };
  const session = await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      await registerUserIn(app, tx, { userId, email, passwordHash: null }, withActor);
      await claimAndRegisterIn(app, tx, { userId, authenticatorId, isPasswordless: true, name: input.name, credential: verification.credential, recoveryCodeSet: set.event }, withActor);
      return startSessionIn(app, tx, { userId, aal: 2, methods: [{ method: 'passkey', at: app.clock.now().toISOString() }], enrollOnly: false }, withActor);
    }),
  );
  return { userId, session, recoveryCodes: set.codes };
}

// ---------- authentication ----------

/** The options for an assertion. MFA and step-up list the user's keys; a passkey login lists none and requires UV. */
export async function beginWebAuthnAuthentication(
  app: App,
  input: { purpose: ChallengePurpose; binding: string; userId: string | null },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const state = input.userId ? (await loadAuthenticators(app, input.userId)).state : null;
  const { options, challenge } = await createAuthenticationOptions({
    config: app.config.webauthn,
    allowCredentials: state ? descriptors(state) : [],
    userVerification: input.purpose === 'passkey_login' ? 'required' : 'preferred',
  });
  await storeChallenge(app, { binding: input.binding, purpose: input.purpose, challenge, userId: input.userId });
  return options;
}

/** The account a credential id was registered to (its claim stream), or null. Unauthenticated until verified. */
export async function findCredentialOwner(app: App, credentialId: string): Promise<string | null> {
  const claim = await loadAggregate(app.store, credentialStream(credentialId), { claimedBy: null as string | null }, (_s, e: WebAuthnCredentialClaimed) => ({ claimedBy: e.data.userId }));
  return claim.state.claimedBy;
}

export interface AssertionOutcome<T> {
  accepted: boolean;
  reason: ErrorCode | null;
  result: T;
}

/**
 * AuthenticateWebAuthn's core, shared by the MFA step, step-up and passkey login: consumes the ceremony's challenge,
 * verifies the assertion against this user's key, then, in ONE transaction, appends the key's use (or its rejection,
 * or WebAuthnCloneSuspected) at the expected version and runs `complete` (finish the login, reauthenticate, start the
 * passkey session). The caller consumed an attempt; success refunds it. Failures are returned, not thrown, so the
 * caller answers the error after the transaction that recorded it has committed.
 */
export async function verifyWebAuthnAssertion<T>(
  app: App,
  input: {
    userId: string;
    binding: string;
    challengePurpose: ChallengePurpose;
    purpose: WebAuthnPurpose;
    response: unknown;
    requireUserVerification: boolean;
    /** Passkey login: the assertion's userHandle must name this same account. */
    requireUserHandle: boolean;
  },
  request: RequestInfo,
  complete: (tx: Queryable, outcome: { accepted: boolean; reason: string }) => Promise<T>,
): Promise<AssertionOutcome<T>> {
  const { userId } = input;
  // Consumed before anything is checked: gone whether the verification below succeeds or fails.
  const stored = await consumeChallenge(app, { binding: input.binding, purpose: input.challengePurpose, userId: input.challengePurpose === 'passkey_login' ? null : userId });
  const credentialId = extractCredentialId(input.response) ?? '';
  // One P-256 signature check (tens of microseconds): done inside the transaction, on the key as read there.
  const checkAgainst = async (state: AuthenticatorsState): Promise<{ check: AssertionCheck; credential: WebAuthnCredentialState | null }> => {
    const credential = state.webauthn.find((c) => c.credentialId === credentialId) ?? null;
    if (!stored) return { check: { verified: false, reason: 'CHALLENGE_INVALID' }, credential };
    if (input.requireUserHandle && userIdFromUserHandle(extractUserHandle(input.response) ?? '') !== userId) return { check: { verified: false, reason: 'USER_HANDLE_MISMATCH' }, credential };
    if (!credential) return { check: { verified: false, reason: 'CREDENTIAL_NOT_FOUND' }, credential };
    // A key registered as a second factor was meant to go with the password: it never logs in alone, even when the
    // authenticator happens to make it discoverable.
    if (input.purpose === 'passkey_login' && !credential.isPasswordless) return { check: { verified: false, reason: 'CREDENTIAL_NOT_FOUND' }, credential };
    const verification = await verifyAuthentication({
      config: app.config.webauthn, response: input.response, expectedChallenge: stored.challenge,
      credential: { id: credential.credentialId, publicKey: credential.publicKey, counter: credential.counter, transports: credential.transports },
      requireUserVerification: input.requireUserVerification,
    });
    const check: AssertionCheck = verification.verified
      ? { verified: true, newCounter: verification.newCounter, backupEligible: verification.backupEligible, backedUp: verification.backedUp }
      : { verified: false, reason: verification.reason };
    return { check, credential };
  };
  const outcome = await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const { state, version } = await loadAuthenticators(app, userId, tx);
      const { check, credential } = await checkAgainst(state);
      const events = decideWebAuthn({
        type: 'AuthenticateWebAuthn',
        data: { userId, credentialId, verifiedPublicKey: credential?.publicKey ?? null, check, purpose: input.purpose, now: app.clock.now().toISOString() },
      }, state);
      await appendAuthenticators(app, tx, userId, version, events, request);
      const accepted = events[0]?.type === 'WebAuthnAssertionAccepted';
      const rejection = events.find((e) => e.type === 'WebAuthnAssertionRejected');
      const reason = rejection?.type === 'WebAuthnAssertionRejected' ? rejection.data.reason : '';
      const result = await complete(tx, { accepted, reason });
      return { accepted, reason: accepted ? null : assertionErrorCode(reason), result };
    }),
  );
  if (outcome.accepted) await app.attempts.refund(accountKeyFor(userId, ''));
  return outcome;
}

// ---------- management ----------

export async function renameWebAuthn(app: App, input: { userId: string; authenticatorId: string; name: string }, request: RequestInfo): Promise<void> {
  await executeWebAuthn(app, input.userId, { type: 'RenameWebAuthn', data: { ...input, now: app.clock.now().toISOString() } }, request);
}

/** RemoveWebAuthn: the caller has checked for a recent reauthentication; an admin's last factor stays. */
export async function removeWebAuthn(app: App, input: { userId: string; authenticatorIds: string[] }, request: RequestInfo): Promise<void> {
  const user = (await loadUser(app, input.userId)).state;
  const factorRequired = rolesRequiringMfa.some((role) => user.roles.includes(role));
  await executeWebAuthn(app, input.userId, { type: 'RemoveWebAuthn', data: { ...input, factorRequired, now: app.clock.now().toISOString() } }, request);
}

async function executeWebAuthn(app: App, userId: string, command: WebAuthnCommand, request: RequestInfo): Promise<void> {
  await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const { state, version } = await loadAuthenticators(app, userId, tx);
      await appendAuthenticators(app, tx, userId, version, decideWebAuthn(command, state), request);
    }),
  );
}
