// EnrollTotp, ActivateTotp, DeactivateTotp and AuthenticateMfa (a TOTP or recovery code for the MFA step or for
// step-up). The slow and secret work (opening the seed, HMACs) runs before the transaction; the decision and its
// append run inside, at the expected version of the authenticators stream, so two submissions of one code cannot
// both be accepted: the loser re-reads, decides again and finds the replay.
import type { App } from '../../app.js';
import type { Queryable } from '../../db/index.js';
import { qrCodeSvg } from '../../crypto/qr.js';
import { generateTotpSecret, matchTotpStep, totpUrl } from '../../crypto/totp.js';
import { hashToken, newSessionToken } from '../../crypto/tokens.js';
import { accountKeyFor } from '../../security/attempts.js';
import { DomainError, type ErrorCode } from '../shared/errors.js';
import type { RequestInfo } from '../shared/request.js';
import { retryOnConflict, streams } from '../shared/streams.js';
import { loadAuthenticators } from '../login/handle.js';
import type { LoginMethod } from '../login/events.js';
import { executeSession } from '../session/handle.js';
import { loadUser } from '../user/handle.js';
import { rolesRequiringMfa } from '../user/policy.js';
import type { MfaPurpose, RecoveryCodeCommand, TotpCommand } from './commands.js';
import { decideRecoveryCodes } from './decideRecoveryCodes.js';
import { decideTotp } from './decideTotp.js';
import type { AuthenticatorEvent } from './events.js';
import { matchRecoveryCode } from './handleRecoveryCodes.js';
import { newRecoveryCodeSet } from './recoveryCodes.js';
import type { AuthenticatorsState } from './state.js';

/** A pending setup must be confirmed within this time. */
export const TOTP_SETUP_TTL_SECONDS = 600;

/** The associated data binding a sealed TOTP seed to its owner: a seed copied into another user's stream does not open. */
export function totpAad(userId: string): string {
  return `totp:${userId}`;
}

async function appendAuthenticators(app: App, tx: Queryable, userId: string, version: number, events: AuthenticatorEvent[], request: RequestInfo): Promise<void> {
  if (events.length === 0) return;
  await app.store.append(streams.authenticators(userId), events, { expectedVersion: version, metadata: request.metadata, now: app.clock.now(), tx });
}

export interface TotpSetup {
  secret: string;
  totpUrl: string;
  qrCodeSvg: string;
}

/** EnrollTotp: a new 160-bit seed, stored sealed until it is activated or expires. */
export async function enrollTotp(app: App, input: { userId: string; email: string }, request: RequestInfo): Promise<TotpSetup> {
  const secret = generateTotpSecret();
  const secretCiphertext = app.secrets.box.seal(secret, totpAad(input.userId));
  const now = app.clock.now();
  const command: TotpCommand = {
    type: 'EnrollTotp',
    data: {
      userId: input.userId, secretCiphertext, keyId: app.secrets.box.currentKeyId, now: now.toISOString(),
      expiresAt: new Date(now.getTime() + TOTP_SETUP_TTL_SECONDS * 1000).toISOString(),
    },
  };
  await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const { state, version } = await loadAuthenticators(app, input.userId, tx);
      await appendAuthenticators(app, tx, input.userId, version, decideTotp(command, state), request);
    }),
  );
  const url = totpUrl({ issuer: app.config.issuer, accountName: input.email, secret });
  return { secret, totpUrl: url, qrCodeSvg: await qrCodeSvg(url) };
}

export interface TotpActivation {
  /** Shown once, only when this TOTP was the user's first factor. */
  recoveryCodes: string[] | null;
  /** The session's new token: activation proves a second factor, so the session is rotated to AAL2. */
  sessionToken: string | null;
}

/**
 * ActivateTotp. The caller has consumed one attempt of the account's budget; success refunds it. A wrong code is
 * recorded (TotpActivationRejected) and then answered INVALID_CODE.
 *
 * The session that activates is rotated to AAL2 with a new token, in the same transaction: it was established with
 * the password and has just proven the new factor, which is what AAL2 asks. That also lifts an enroll-only session
 * (an admin past the grace period) to a full one, so the admin does not have to log in again right after enrolling.
 */
export async function activateTotp(app: App, input: { userId: string; sessionId: string; code: string }, request: RequestInfo): Promise<TotpActivation> {
  const before = (await loadAuthenticators(app, input.userId)).state;
  const pending = before.totp.pending;
  if (before.totp.status === 'active') throw new DomainError('TOTP_ALREADY_ACTIVE');
  if (!pending || app.clock.now().toISOString() >= pending.expiresAt) throw new DomainError('TOTP_NOT_PENDING');
  const secret = app.secrets.box.open(pending.secretCiphertext, totpAad(input.userId));
  const matchedStep = await matchTotpStep({ secret, code: input.code, nowMs: app.clock.now().getTime(), window: app.config.totpWindow });
  const set = newRecoveryCodeSet(app, input.userId, app.clock.now());
  const outcome = await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const { state, version } = await loadAuthenticators(app, input.userId, tx);
      const events = decideTotp({
        type: 'ActivateTotp',
        data: { userId: input.userId, verifiedCiphertext: pending.secretCiphertext, matchedStep, recoveryCodeSet: set.event, now: app.clock.now().toISOString() },
      }, state);
      await appendAuthenticators(app, tx, input.userId, version, events, request);
      if (events[0]?.type !== 'TotpActivated') return { activated: false as const };
      const token = newSessionToken();
      await executeSession(app, tx, input.sessionId, {
        type: 'RotateSessionToken', data: { tokenHash: hashToken(token), aal: 2, reason: 'totp_activated', now: app.clock.now().toISOString() },
      }, request);
      return { activated: true as const, token, withCodes: events.some((e) => e.type === 'RecoveryCodesGenerated') };
    }),
  );
  if (!outcome.activated) throw new DomainError('INVALID_CODE');
  await app.attempts.refund(accountKeyFor(input.userId, ''));
  return { recoveryCodes: outcome.withCodes ? set.codes : null, sessionToken: outcome.token };
}

/** DeactivateTotp: the caller has checked for a recent reauthentication; an admin's last factor stays. */
export async function deactivateTotp(app: App, userId: string, request: RequestInfo): Promise<void> {
  const user = (await loadUser(app, userId)).state;
  const factorRequired = rolesRequiringMfa.some((role) => user.roles.includes(role));
  await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const { state, version } = await loadAuthenticators(app, userId, tx);
      const events = decideTotp({ type: 'DeactivateTotp', data: { userId, factorRequired, now: app.clock.now().toISOString() } }, state);
      await appendAuthenticators(app, tx, userId, version, events, request);
    }),
  );
}

/** How a submitted code is read: six ASCII digits (or any short digit string) is a TOTP attempt, anything else a recovery code. */
export function mfaCodeKind(code: string, state: AuthenticatorsState): 'totp' | 'recovery_code' {
  // A user without TOTP who types digits is answered by the recovery-code path, so the failure is still recorded.
  return /^[0-9]{0,8}$/.test(code) && state.totp.status === 'active' ? 'totp' : 'recovery_code';
}

export interface MfaCodeOutcome<T> {
  method: Extract<LoginMethod, 'totp' | 'recovery_code'>;
  accepted: boolean;
  reason: ErrorCode | null;
  result: T;
}

/**
 * AuthenticateMfa's core, shared by the login MFA step and step-up: verifies a TOTP or recovery code, then, in ONE
 * transaction, appends the factor's use (or its rejection) at the expected version and runs `complete` (finish the
 * login, or reauthenticate the session). The caller consumed an attempt; success refunds it. The outcome is
 * returned, not thrown, so the caller can answer an error after the failure was committed.
 */
export async function verifyMfaCode<T>(
  app: App,
  input: { userId: string; code: string; purpose: MfaPurpose },
  request: RequestInfo,
  complete: (tx: Queryable, outcome: { accepted: boolean; reason: ErrorCode | null; method: 'totp' | 'recovery_code' }) => Promise<T>,
): Promise<MfaCodeOutcome<T>> {
  const { userId, code, purpose } = input;
  // Matching a TOTP code or a recovery code is a few HMACs: it runs inside the transaction, on the state read there.
  const commandFor = async (before: AuthenticatorsState): Promise<{ method: 'totp' | 'recovery_code'; command: Extract<TotpCommand, { type: 'AuthenticateTotp' }> | Extract<RecoveryCodeCommand, { type: 'UseRecoveryCode' }> }> => {
    const method = mfaCodeKind(code, before);
    if (method === 'totp') {
      const verifiedCiphertext = before.totp.secretCiphertext!;
      const secret = app.secrets.box.open(verifiedCiphertext, totpAad(userId));
      const matchedStep = await matchTotpStep({ secret, code, nowMs: app.clock.now().getTime(), window: app.config.totpWindow });
      return { method, command: { type: 'AuthenticateTotp', data: { userId, verifiedCiphertext, matchedStep, purpose, now: app.clock.now().toISOString() } } };
    }
    const match = matchRecoveryCode(app, before, code);
    return { method, command: { type: 'UseRecoveryCode', data: { userId, setId: match.setId, matchedIndex: match.index, purpose, now: app.clock.now().toISOString() } } };
  };
  const outcome = await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const { state, version } = await loadAuthenticators(app, userId, tx);
      const { method, command } = await commandFor(state);
      const events = command.type === 'UseRecoveryCode' ? decideRecoveryCodes(command, state) : decideTotp(command, state);
      await appendAuthenticators(app, tx, userId, version, events, request);
      const first = events[0];
      const accepted = first?.type === 'TotpCodeAccepted' || first?.type === 'RecoveryCodeUsed';
      const reason: ErrorCode | null = accepted ? null : first && 'reason' in first.data ? (first.data.reason as ErrorCode) : 'INVALID_CODE';
      const result = await complete(tx, { accepted, reason, method });
      return { accepted, reason, result, method };
    }),
  );
  if (outcome.accepted) await app.attempts.refund(accountKeyFor(userId, ''));
  return outcome;
}
