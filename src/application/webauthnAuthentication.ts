// AuthenticateWebAuthn: a security key or passkey as the MFA step of a pending login, or as step-up of a session; and
// the ceremony's options for those and for a passkey login. The verification core (verifyAssertion) is shared with
// passkey login. The use cases draw one attempt before the credential is even parsed (a malformed assertion still
// counts); the challenge is consumed before anything is checked; the signature is checked inside the transaction on
// the key as read there, and the key's use (or its rejection, or WebAuthnCloneSuspected) commits with what it
// completes at the authenticators stream's expected version, so two submissions of one assertion cannot both be
// accepted. Errors are answered only after the transaction that recorded the failure has committed.
import { z } from 'zod';
import {
  createAuthenticationOptions,
  verifyAuthentication,
  type PublicKeyCredentialRequestOptionsJSON,
} from '../crypto/webauthn/authentication.js';
import { authenticationResponseSchema, extractCredentialId, extractUserHandle, userIdFromUserHandle } from '../crypto/webauthn/responses.js';
import type { Queryable } from '../db/index.js';
import type { ReadAheadRow } from '../eventstore/index.js';
import { bindings, consumeChallenge, storeChallenge, type ChallengePurpose, type StoredChallenge } from '../db/webauthnChallenges.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { loginAggregate } from '../domain/login/aggregate.js';
import type { AssertionCheck, WebAuthnPurpose } from '../domain/authenticators/commands.js';
import { assertionErrorCode } from '../domain/authenticators/decideWebAuthn.js';
import type { AuthenticatorsState, WebAuthnCredentialState } from '../domain/authenticators/state.js';
import { DomainError, type ErrorCode } from '../domain/shared/errors.js';
import { accountAttempt, pendingLoginAttempt, spendAttempt } from './attempts.js';
import { requirePendingLogin, requireSession } from './authorization.js';
import { mfaStepStreams, type Caller } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { factorLoginAppends } from './appendCounts.js';
import { assertPendingFlowOpen, finishMfaStepIn } from './loginFlow.js';
import { inLoginFlow, type RequestFacts } from './request.js';
import { reauthenticateSessionIn, type IssuedSession, type IssuedToken } from './sessions.js';
import { parseInput } from './validation.js';
import { credentialDescriptors, newCeremonyToken } from './webauthnCredentials.js';

export const beginWebAuthnAuthenticationInputSchema = z.object({ purpose: z.enum(['MFA', 'PASSKEY_LOGIN', 'REAUTHENTICATE']) });
export const assertionInputSchema = z.object({ credential: authenticationResponseSchema });

type CeremonyDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'db' | 'attempts'>;
export type AssertionDeps = CeremonyDeps & Pick<Deps, 'attempts'>;

export interface AssertionOptions {
  requestOptions: PublicKeyCredentialRequestOptionsJSON;
  /** PASSKEY_LOGIN only: the anonymous ceremony's token, which the client hands back with the assertion. */
  ceremonyToken: string | null;
}

/** Creates and stores the challenge. MFA and step-up list the user's keys; a passkey login lists none and requires UV. */
async function requestOptionsFor(
  deps: CeremonyDeps, input: { purpose: ChallengePurpose; binding: string; userId: string | null; reads?: Queryable | null },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const state = input.userId ? (await load(deps.store, authenticatorsAggregate, input.userId, input.reads ?? undefined)).state : null;
  const { options, challenge } = await createAuthenticationOptions({
    config: deps.config.webauthn,
    allowCredentials: state ? credentialDescriptors(state) : [],
    userVerification: input.purpose === 'passkey_login' ? 'required' : 'preferred',
  });
  await storeChallenge(deps, { binding: input.binding, purpose: input.purpose, challenge, userId: input.userId });
  return options;
}

/** The assertion options for the MFA step of the caller's pending login, step-up of its session, or a passkey login. */
export async function beginWebAuthnAuthentication(
  deps: CeremonyDeps, caller: Caller, input: z.output<typeof beginWebAuthnAuthenticationInputSchema>, request: RequestFacts,
): Promise<AssertionOptions> {
  if (input.purpose === 'MFA') {
    const { flow, readAhead } = requirePendingLogin(caller);
    await assertPendingFlowOpen(deps, flow, inLoginFlow(request, flow.flowId));
    // The keys to list came with the caller's token (the MFA step's read ahead: mfaStepReadAhead); the positions it
    // drew for a step are left unused (gaps), as a failed step's are.
    const reads = await deps.store.readAheadReads(readAhead, mfaStepStreams(flow));
    return { requestOptions: await requestOptionsFor(deps, { purpose: 'mfa', binding: bindings.flow(flow.flowId), userId: flow.userId, reads }), ceremonyToken: null };
  }
  if (input.purpose === 'REAUTHENTICATE') {
    const auth = requireSession(caller);
    return { requestOptions: await requestOptionsFor(deps, { purpose: 'reauthentication', binding: bindings.session(auth.session.id), userId: auth.user.id }), ceremonyToken: null };
  }
  if (!deps.config.passkeyLoginEnabled) throw new DomainError('FEATURE_DISABLED');
  // Anyone may begin a passkey login, and each begin writes a challenge row: paid from the client address's budget.
  await deps.attempts.consumeAddress(request.clientAddress);
  const ceremonyToken = newCeremonyToken();
  const requestOptions = await requestOptionsFor(deps, { purpose: 'passkey_login', binding: bindings.ceremony(ceremonyToken), userId: null });
  return { requestOptions, ceremonyToken };
}

/** Whose assertion is expected, in which ceremony, and what it is for. */
export interface AssertionCeremony {
  userId: string;
  binding: string;
  challengePurpose: ChallengePurpose;
  purpose: WebAuthnPurpose;
  requireUserVerification: boolean;
  /** Passkey login: the assertion's userHandle must name this same account. */
  requireUserHandle: boolean;
}

/** What an accepted (or rejected) assertion completes, in the transaction that records it. */
export interface AssertionCompletion<T> {
  accepted: (tx: Queryable) => Promise<T>;
  /** The rejection's reason as recorded (WebAuthnAssertionRejected), for a flow that records its failure too. */
  rejected?: (tx: Queryable, reason: string) => Promise<unknown>;
  /**
   * Streams the completion will load, read ahead with the authenticators in one statement: a load after the
   * assertion's append would otherwise send that append on its own first (the unit of work flushes before a read).
   */
  readsAhead?: readonly string[];
  /** How many events the assertion and the completion append when it is accepted: drawn ahead (EventStore.drawAhead). */
  appendsAhead?: number;
  /**
   * The authenticators and `readsAhead`, read and their positions drawn by the caller's first statement (a read ahead:
   * EventStore.readAheadSql): the transaction then reads and draws nothing before its append. Taken in the first round
   * only, and only if it read exactly those streams; a retry after a lost race reads again.
   */
  ahead?: ReadAheadRow;
}

export type AssertionOutcome<T> = { accepted: true; result: T } | { accepted: false; reason: ErrorCode };

/**
 * AuthenticateWebAuthn's core, shared by the MFA step, step-up and passkey login: consumes the ceremony's challenge,
 * then, in ONE transaction, verifies the assertion against this user's key as read there, appends the key's use (or
 * its rejection, or WebAuthnCloneSuspected) at the expected version and runs the completion. The caller has drawn an
 * attempt. Failures are returned, not thrown, so the caller answers after the transaction that recorded them committed.
 */
export async function verifyAssertion<T>(
  deps: CeremonyDeps, ceremony: AssertionCeremony, response: unknown, request: RequestFacts, complete: AssertionCompletion<T>,
): Promise<AssertionOutcome<T>> {
  const { userId } = ceremony;
  const credentialId = extractCredentialId(response) ?? '';
  // One P-256 signature check (tens of microseconds): done inside the transaction, on the key as read there.
  const checkAgainst = async (state: AuthenticatorsState, stored: StoredChallenge | null): Promise<{ check: AssertionCheck; credential: WebAuthnCredentialState | null }> => {
    const credential = state.webauthn.find((c) => c.credentialId === credentialId) ?? null;
    if (!stored) return { check: { verified: false, reason: 'CHALLENGE_INVALID' }, credential };
    if (ceremony.requireUserHandle && userIdFromUserHandle(extractUserHandle(response) ?? '') !== userId) return { check: { verified: false, reason: 'USER_HANDLE_MISMATCH' }, credential };
    if (!credential) return { check: { verified: false, reason: 'CREDENTIAL_NOT_FOUND' }, credential };
    // A key registered as a second factor was meant to go with the password: it never logs in alone, even when the
    // authenticator happens to make it discoverable.
    if (ceremony.purpose === 'passkey_login' && !credential.isPasswordless) return { check: { verified: false, reason: 'CREDENTIAL_NOT_FOUND' }, credential };
    const verification = await verifyAuthentication({
      config: deps.config.webauthn, response, expectedChallenge: stored.challenge,
      credential: { id: credential.credentialId, publicKey: credential.publicKey, counter: credential.counter, transports: credential.transports },
      requireUserVerification: ceremony.requireUserVerification,
    });
    const check: AssertionCheck = verification.verified
      ? { verified: true, newCounter: verification.newCounter, backupEligible: verification.backupEligible, backedUp: verification.backedUp }
      : { verified: false, reason: verification.reason };
    return { check, credential };
  };
  const streams = [authenticatorsAggregate.streamId(userId), ...(complete.readsAhead ?? [])];
  return deps.store.transactionWithRetry(async (tx): Promise<AssertionOutcome<T>> => {
    const adopted = await deps.store.adoptReadAhead(tx, complete.ahead, streams);
    if (!adopted) deps.store.drawAhead(tx, complete.appendsAhead ?? 0);
    // Consumed before anything is checked, in the transaction that records the verdict (accepted or rejected), sent
    // with its first reads: gone with that record whether the verification succeeds or fails; a concurrent submission
    // of the same assertion waits for it, then finds nothing. A round run again after a lost race consumes it again
    // (the first round's delete rolled back with the rest of it).
    const consumed = consumeChallenge(deps, { binding: ceremony.binding, purpose: ceremony.challengePurpose, userId: ceremony.challengePurpose === 'passkey_login' ? null : userId }, tx);
    consumed.catch(() => {}); // its failure is the transaction's: awaited below, unless a read fails first
    if (!adopted && complete.readsAhead?.length) await deps.store.readStreams(streams, tx);
    const loaded = await load(deps.store, authenticatorsAggregate, userId, tx);
    const { check, credential } = await checkAgainst(loaded.state, await consumed);
    const { events } = await handle(deps, tx, authenticatorsAggregate, userId, {
      type: 'AuthenticateWebAuthn',
      data: {
        userId, credentialId, verifiedPublicKey: credential?.publicKey ?? null, check, purpose: ceremony.purpose,
        blockedAaguids: deps.config.aaguid.enforced ? deps.config.aaguid.block : [], now: deps.clock.now().toISOString(),
      },
    }, request, { loaded });
    if (events[0]?.type === 'WebAuthnAssertionAccepted') return { accepted: true, result: await complete.accepted(tx) };
    const rejection = events.find((e) => e.type === 'WebAuthnAssertionRejected');
    const reason = rejection?.type === 'WebAuthnAssertionRejected' ? rejection.data.reason : '';
    await complete.rejected?.(tx, reason);
    return { accepted: false, reason: assertionErrorCode(reason) };
  });
}

/** The answer to an assertion, given after its transaction committed: the result, or the rejection's error. */
export function answerOf<T>(outcome: AssertionOutcome<T>): T {
  if (!outcome.accepted) throw new DomainError(outcome.reason);
  return outcome.result;
}

/** AuthenticateWebAuthn as the MFA step of a pending login: success ends it with an AAL2 session (password + key). */
export async function completeMfaStepWithWebAuthn(deps: AssertionDeps, caller: Caller, input: unknown, request: RequestFacts): Promise<IssuedSession> {
  const pending = requirePendingLogin(caller);
  const { flow } = pending;
  request = inLoginFlow(request, flow.flowId);
  await assertPendingFlowOpen(deps, flow, request);
  const outcome = await spendAttempt(deps, await pendingLoginAttempt(deps, pending, request), (request) => {
    const { credential } = parseInput(assertionInputSchema, input);
    return verifyAssertion(deps, {
      userId: flow.userId, binding: bindings.flow(flow.flowId), challengePurpose: 'mfa', purpose: 'login', requireUserVerification: false, requireUserHandle: false,
    }, credential, request, {
      accepted: (tx) => finishMfaStepIn(deps, tx, flow.flowId, 'webauthn', { accepted: true }, request),
      // The login the step finishes, read with the authenticators: by the caller's token lookup (mfaStepReadAhead),
      // else at the transaction's start.
      readsAhead: [loginAggregate.streamId(flow.flowId)], ahead: pending.readAhead, appendsAhead: factorLoginAppends(request),
      // The login records the failure too (MfaFailed), in the same transaction.
      rejected: (tx, reason) => finishMfaStepIn(deps, tx, flow.flowId, 'webauthn', { accepted: false, reason }, request),
    });
  }, (o) => o.accepted);
  const session = answerOf(outcome);
  if (!session) throw new DomainError('FLOW_EXPIRED');
  return session;
}

/** AuthenticateWebAuthn as step-up: the key proves the user again; the session gets a new token and AAL2 from now on. */
export async function reauthenticateWithWebAuthn(deps: AssertionDeps, caller: Caller, input: unknown, request: RequestFacts): Promise<IssuedToken> {
  const auth = requireSession(caller);
  const outcome = await spendAttempt(deps, await accountAttempt(deps, auth.user.id, request), (request) => {
    const { credential } = parseInput(assertionInputSchema, input);
    return verifyAssertion(deps, {
      userId: auth.user.id, binding: bindings.session(auth.session.id), challengePurpose: 'reauthentication', purpose: 'reauthentication',
      requireUserVerification: false, requireUserHandle: false,
    }, credential, request, { accepted: (tx) => reauthenticateSessionIn(deps, tx, auth.session.id, 'webauthn', 2, request) });
  }, (o) => o.accepted);
  return answerOf(outcome);
}
