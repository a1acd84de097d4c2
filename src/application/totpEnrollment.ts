// TOTP setup, activation and removal. Activation draws an attempt (a wrong code is a guess like any other); the
// activating session is rotated to AAL2 in the same transaction: it was established with the password and has just
// proven the new factor, which is what AAL2 asks. That also lifts an enrol-only session (an admin past the grace
// period) to a full one, so the admin does not have to log in again right after enrolling.
import { z } from 'zod';
import { qrCodeSvg } from '../crypto/qr.js';
import { generateTotpSecret, matchTotpStep, totpUrl } from '../crypto/totp.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import type { AuthenticatorsState } from '../domain/authenticators/state.js';
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { isMfaRequired, mfaPolicyOf } from '../domain/user/policy.js';
import { accountAttempt, spendAttempt } from './attempts.js';
import { recoveryCodesOffered, requireMayAddFactor, requireSensitiveChange, requireSupportedFactor } from './authorization.js';
import type { Caller } from './caller.js';
import { handle, load } from './commandHandler.js';
import { revokeAllDeviceTrustIn } from './devices.js';
import type { Deps } from './deps.js';
import { newRecoveryCodeSet } from './recoveryCodes.js';
import type { RequestFacts } from './request.js';
import { rotateToAal2In, type IssuedToken } from './sessions.js';
import { codeSchema, parseInput } from './validation.js';

/** A pending setup must be confirmed within this time. */
export const TOTP_SETUP_TTL_SECONDS = 600;

/** The associated data binding a sealed TOTP seed to its owner: a seed copied into another user's stream does not open. */
export function totpAad(userId: string): string {
  return `totp:${userId}`;
}

export const codeInputSchema = z.object({ code: codeSchema });

type TotpDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'secrets'>;

export interface TotpSetup {
  secret: string;
  totpUrl: string;
  qrCodeSvg: string;
}

/** EnrollTotp: a new 160-bit seed, stored sealed until it is activated or expires. */
export async function setupTotp(deps: TotpDeps, caller: Caller, request: RequestFacts): Promise<TotpSetup> {
  requireSupportedFactor(deps, 'totp');
  const auth = await requireMayAddFactor(deps, caller);
  const userId = auth.user.id;
  const secret = generateTotpSecret();
  const secretCiphertext = deps.secrets.box.seal(secret, totpAad(userId));
  const now = deps.clock.now();
  await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, authenticatorsAggregate, userId, {
      type: 'EnrollTotp',
      data: {
        userId, secretCiphertext, keyId: deps.secrets.box.currentKeyId, sessionId: auth.session.id, now: now.toISOString(),
        expiresAt: new Date(now.getTime() + TOTP_SETUP_TTL_SECONDS * 1000).toISOString(),
      },
    }, request));
  const url = totpUrl({ issuer: deps.config.issuer, accountName: auth.user.email, secret });
  return { secret, totpUrl: url, qrCodeSvg: await qrCodeSvg(url) };
}

/** A pending setup shown again must leave the user this long to type a code. */
const SETUP_REUSE_MIN_SECONDS = 120;

/**
 * The setup a page shows (allauth's GET of the TOTP status): the session's own pending setup again while it has time
 * left, else a new one (setupTotp). A page that asks twice (a reload, a framework that renders twice) then shows one
 * secret, and the code typed from it still activates. Only the session that began the setup ever sees it again.
 */
export async function currentOrNewTotpSetup(deps: TotpDeps, caller: Caller, request: RequestFacts): Promise<TotpSetup> {
  requireSupportedFactor(deps, 'totp');
  const auth = await requireMayAddFactor(deps, caller);
  const userId = auth.user.id;
  const { pending } = (await load(deps.store, authenticatorsAggregate, userId)).state.totp;
  const reusable = pending && pending.sessionId === auth.session.id
    && Date.parse(pending.expiresAt) - deps.clock.now().getTime() > SETUP_REUSE_MIN_SECONDS * 1000;
  if (!reusable) return setupTotp(deps, caller, request);
  const secret = deps.secrets.box.open(pending.secretCiphertext, totpAad(userId));
  const url = totpUrl({ issuer: deps.config.issuer, accountName: auth.user.email, secret });
  return { secret, totpUrl: url, qrCodeSvg: await qrCodeSvg(url) };
}

export interface TotpActivation {
  /** Shown once, only when this TOTP was the user's first factor. */
  recoveryCodes: string[] | null;
  /** The session's new token (AAL2). */
  session: IssuedToken;
  authenticators: AuthenticatorsState;
}

/**
 * ActivateTotp: by the session that began the setup, under the same freshness rule as the setup itself. A wrong code
 * is recorded (TotpActivationRejected) and then answered INVALID_CODE.
 */
export async function activateTotp(deps: TotpDeps & Pick<Deps, 'attempts' | 'db'>, caller: Caller, input: unknown, request: RequestFacts): Promise<TotpActivation> {
  requireSupportedFactor(deps, 'totp');
  const auth = await requireMayAddFactor(deps, caller);
  const userId = auth.user.id;
  const attempt = await accountAttempt(deps, userId, request);
  const outcome = await spendAttempt(deps, attempt, async (request) => {
    const { code } = parseInput(codeInputSchema, input);
    const before = (await load(deps.store, authenticatorsAggregate, userId)).state;
    const pending = before.totp.pending;
    if (before.totp.status === 'active') throw new DomainError('TOTP_ALREADY_ACTIVE');
    if (!pending || deps.clock.now().toISOString() >= pending.expiresAt || pending.sessionId !== auth.session.id) throw new DomainError('TOTP_NOT_PENDING');
    const secret = deps.secrets.box.open(pending.secretCiphertext, totpAad(userId));
    const matchedStep = await matchTotpStep({ secret, code, nowMs: deps.clock.now().getTime(), window: deps.config.totpWindow });
    const set = recoveryCodesOffered(deps) ? newRecoveryCodeSet(deps, userId, deps.clock.now()) : null;
    return deps.store.transactionWithRetry(async (tx) => {
      const { events, state } = await handle(deps, tx, authenticatorsAggregate, userId, {
        type: 'ActivateTotp',
        data: { userId, verifiedCiphertext: pending.secretCiphertext, sessionId: auth.session.id, matchedStep, recoveryCodeSet: set?.event ?? null, now: deps.clock.now().toISOString() },
      }, request);
      if (events[0]?.type !== 'TotpActivated') return null;
      const session = await rotateToAal2In(deps, tx, auth.session.id, 'totp_activated', request);
      return { session, authenticators: state, recoveryCodes: set && events.some((e) => e.type === 'RecoveryCodesGenerated') ? set.codes : null };
    });
  }, (activation) => activation !== null);
  // Answered only now, after the transaction that recorded the rejection has committed.
  if (!outcome) throw new DomainError('INVALID_CODE');
  return outcome;
}

/** DeactivateTotp: a sensitive change; an admin's last factor stays. Returns the factors left. */
export async function deactivateTotp(deps: TotpDeps, caller: Caller, request: RequestFacts): Promise<AuthenticatorsState> {
  const auth = await requireSensitiveChange(deps, caller);
  const userId = auth.user.id;
  const user = (await load(deps.store, userAggregate, userId)).state;
  const factorRequired = isMfaRequired(user, mfaPolicyOf(deps.config));
  // A factor removed (perhaps one the owner fears is compromised): no device keeps skipping the MFA step on its strength.
  const { state } = await deps.store.transactionWithRetry(async (tx) => {
    const handled = await handle(deps, tx, authenticatorsAggregate, userId, { type: 'DeactivateTotp', data: { userId, factorRequired, now: deps.clock.now().toISOString() } }, request);
    await revokeAllDeviceTrustIn(deps, tx, userId, 'factor_removed', request);
    return handled;
  });
  return state;
}
