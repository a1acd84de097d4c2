// Password login. An unknown email verifies a dummy hash and answers exactly like a wrong password, so neither the
// answer nor its cost tells an attacker which emails exist. Every rejection is an event (PasswordRejected).
import { hashToken, newId, newPendingLoginToken } from '../crypto/tokens.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { availableFactorTypes, hasSecondFactor, hasStrongSecondFactor, hasUsableSecondFactor } from '../domain/authenticators/state.js';
import { loginAggregate } from '../domain/login/aggregate.js';
import type { LoginCommand } from '../domain/login/commands.js';
import type { LoginState } from '../domain/login/state.js';
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { mfaPolicyOf, mfaRequirement } from '../domain/user/policy.js';
import { findLoginTarget } from '../projections/users.js';
import type { ReadAheadJoin } from '../projections/projector.js';
import { noSecretBucket } from '../domain/user/state.js';
import { attemptFrom, unknownAttempt } from './attempts.js';
import { handle, load } from './commandHandler.js';
import { recordUnknownAccountFailure } from './lockout.js';
import type { Deps } from './deps.js';
import { actingAs, inLoginFlow, type RequestFacts } from './request.js';
import { passwordLoginAppends, sessionStartAppends } from './appendCounts.js';
import { startSessionIn, type IssuedSession, type IssuedToken } from './sessions.js';
import { issueFlowToken, requestEmailVerificationIn } from './emailVerification.js';

export type PasswordLoginResult =
  | { kind: 'session'; session: IssuedSession; userId: string; mfaDeadline: Date | null; enrollOnly: boolean }
  | { kind: 'mfa_pending'; pending: IssuedToken; flowId: string; userId: string; types: string[]; expiresAt: Date }
  /** ACCOUNT_EMAIL_VERIFICATION=mandatory and the address is not verified: a code was sent, the VERIFY_EMAIL flow waits. */
  | { kind: 'verify_email'; pending: IssuedToken; userId: string };

type LoginDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'db' | 'passwords' | 'attempts' | 'unknownAccounts' | 'personalData' | 'secrets'>;

export async function passwordLogin(deps: LoginDeps, input: { email: string; password: string }, request: RequestFacts): Promise<PasswordLoginResult> {
  // Every request of this login (this one, the MFA step, an abandon) is filed under the flow's id.
  const flowId = newId();
  request = inLoginFlow(request, flowId);
  // The account, and what this device is to it (its own attempt bucket if known; trusted to skip the MFA step?).
  const target = await findLoginTarget(deps.db, deps.personalData.hashes.email(input.email), request.deviceId ?? null, passwordLoginReadAhead(deps, request));
  const userId = target?.user_id ?? null;
  // The account's data key came with that read: sealing this login's events needs no round trip of its own.
  if (target) deps.personalData.prime(target.user_id, target.wrapped_key);
  // A passkey-only account has no password to guess: a password attempt on it verifies no secret of the account, so it
  // is counted like one on an unknown email, never as a failure of the account (it could otherwise be locked by
  // attempts that can never succeed).
  const attempt = target?.has_password
    ? attemptFrom(target.user_id, request, { deviceKnown: target.device_known, standing: target.standing })
    : unknownAttempt(input.email, { ...request, attemptBucket: userId ? noSecretBucket : undefined });
  request = attempt.request;
  // The account's two streams (its password, its factors) came with that read (else they are read in one statement
  // beside the budget check), before the hash instead of after it: a login's latency is the hash and little else.
  // Nothing is verified before the budget has said yes; the reads reveal nothing to the caller.
  const streams = userId ? [userAggregate.streamId(userId), authenticatorsAggregate.streamId(userId)] : [];
  const [, reads] = await Promise.all([
    deps.attempts.consume(attempt.key, request.clientAddress, attempt.standing),
    userId ? deps.store.readAheadReads(target?.readAhead, streams).then((ahead) => ahead ?? deps.store.readTogether(streams)) : Promise.resolve(null),
  ]);
  const loadedUser = userId && reads ? await load(deps.store, userAggregate, userId, reads) : null;
  const user = loadedUser?.state ?? null;
  const factors = userId && reads ? load(deps.store, authenticatorsAggregate, userId, reads) : null;
  factors?.catch(() => {}); // awaited below only on success; a failed read must not go unhandled meanwhile
  const verification = user?.passwordHash
    ? await deps.passwords.verify(user.passwordHash, input.password)
    : { valid: await deps.passwords.verifyDummy(input.password), needsRehash: false };
  const upgradedHash = verification.valid && verification.needsRehash ? await deps.passwords.hash(input.password) : null;
  const sessionId = newId();
  const now = deps.clock.now();
  const asActor = actingAs(request, userId ?? 'anonymous');
  const expiresAt = new Date(now.getTime() + deps.config.loginFlowTtlSeconds * 1000);
  const start = (data: Pick<Extract<LoginCommand, { type: 'StartLogin' }>['data'], 'passwordValid' | 'factorTypes' | 'pendingTokenHash'>): LoginCommand => ({
    type: 'StartLogin',
    data: {
      flowId, userId, method: 'password', sessionId, aal: 1, now: now.toISOString(), expiresAt: expiresAt.toISOString(),
      trustedDeviceId: target?.trusted_until && now < target.trusted_until ? request.deviceId ?? null : null, ...data,
    },
  });
  if (!verification.valid || !user || !userId) {
    await deps.store.transaction((tx) => {
      // The positions drawn with the first read serve the rejection as well (the rest are gaps).
      deps.store.adoptPositionsAhead(tx, target?.readAhead);
      return handle(deps, tx, loginAggregate, flowId, start({ passwordValid: false, factorTypes: [], pendingTokenHash: '' }), asActor, { isNew: true });
    });
    // A known account counts the failure from its PasswordRejected event; an unknown email (or an account without a
    // password) in a ledger of its own.
    if (!user?.passwordHash) await recordUnknownAccountFailure(deps, attempt.key);
    throw new DomainError('INVALID_CREDENTIALS');
  }
  await deps.attempts.refund(attempt.key, request.clientAddress);
  const authenticators = (await factors!).state;
  // "This wasn't me" was used: the password may be the attacker's, so only a reset by email opens the account again.
  if (user.resetRequired) throw new DomainError('PASSWORD_RESET_REQUIRED');
  // Assisted recovery, or every second factor suspended: never the password alone.
  if (user.assistedRecovery || (hasSecondFactor(authenticators) && !hasUsableSecondFactor(authenticators))) throw new DomainError('ACCOUNT_LOCKED');
  if (deps.config.emailVerification === 'mandatory' && !user.emailVerified) {
    await deps.store.transactionWithRetry((tx) => requestEmailVerificationIn(deps, tx, userId, null, asActor));
    return { kind: 'verify_email', pending: issueFlowToken(deps, 'verify_email', userId), userId };
  }
  const factorTypes = availableFactorTypes(authenticators);
  const requirement = mfaRequirement(user, hasStrongSecondFactor(authenticators), now, mfaPolicyOf(deps.config));
  const pendingToken = newPendingLoginToken();
  return deps.store.transactionWithRetry(async (tx) => {
    // The password was checked against the user stream as it was read. Hold that stream until commit: a password
    // change or a deletion either committed first (then the hash is no longer the one verified, and this login fails)
    // or waits for this commit and then ends the session or pending login it creates. The hold goes out together with
    // the login's own append (pipelined): what matters is that it is held, and checked, before the commit.
    const command = start({ passwordValid: true, factorTypes, pendingTokenHash: hashToken(pendingToken) });
    let state: LoginState;
    if (!upgradedHash && deps.store.adoptPositionsAhead(tx, target!.readAhead)) {
      // The positions were drawn with the first read, and the hold is checked by the append's own statement: BEGIN,
      // the append and COMMIT go out in one round trip. A user stream that moved since it was read fails that statement
      // (nothing is written), and the transaction runs again the way below, which looks at what changed.
      deps.store.holdAtVersion(tx, userAggregate.streamId(userId), loadedUser!.version);
      ({ state } = await handle(deps, tx, loginAggregate, flowId, command, asActor, { isNew: true }));
    } else {
      // A new stream's decision depends on the command alone, so what this transaction appends is known before
      // anything is sent: its positions go out with the hold (EventStore.drawAhead).
      const decided = loginAggregate.decide(command, loginAggregate.initialState);
      const completes = decided.some((e) => e.type === 'LoginCompleted');
      deps.store.drawAhead(tx, decided.length + (completes ? sessionStartAppends(asActor, requirement.enrollOnly) : 0) + (upgradedHash ? 1 : 0));
      const [version, handled] = await Promise.all([
        deps.store.holdStream(userAggregate.streamId(userId), tx, upgradedHash ? 'update' : 'share'),
        handle(deps, tx, loginAggregate, flowId, command, asActor, { isNew: true }),
      ]);
      ({ state } = handled);
      if (version !== loadedUser!.version) {
        const { state: current } = await load(deps.store, userAggregate, userId, tx);
        if (current.deleted || current.passwordHash !== user.passwordHash) throw new DomainError('INVALID_CREDENTIALS');
      }
    }
    if (upgradedHash) await handle(deps, tx, userAggregate, userId, { type: 'UpgradePasswordHash', data: { passwordHash: upgradedHash, now: now.toISOString() } }, asActor);
    if (state.status === 'mfa_pending') {
      return { kind: 'mfa_pending' as const, pending: { token: pendingToken, expiresInSeconds: deps.config.loginFlowTtlSeconds }, flowId, userId, types: factorTypes, expiresAt };
    }
    const session = await startSessionIn(deps, tx, { userId, aal: 1, methods: state.methods, enrollOnly: requirement.enrollOnly, sessionId, flowId }, asActor);
    return { kind: 'session' as const, session, userId, mfaDeadline: requirement.deadline, enrollOnly: requirement.enrollOnly };
  });
}

/**
 * What a password login reads and draws after finding the account, read in the same statement (findLoginTarget): the
 * account's two streams (its password hash, its factors: from their snapshots) and the positions a right password
 * appends (the login's decision, and the session's start when no MFA step follows), so the login's transaction after
 * the hash sends only its append. The count is the one the decision will most likely make, from the projections
 * (a second factor, a trusted device, a device known to the account); a decision that appends fewer leaves gaps, one
 * that appends more draws its own. PostgreSQL only.
 */
function passwordLoginReadAhead(deps: LoginDeps, request: RequestFacts): ReadAheadJoin | undefined {
  if (deps.db.kind !== 'postgres') return undefined;
  const sql = deps.store.readAheadSql(
    `array[$3::text || u.user_id::text, $4::text || u.user_id::text]`,
    `case when not u.has_password then 0
          when coalesce(mfa.any_factor, false) then case when d.trusted_until > $5::timestamptz then $6::int else $7::int end
          when d.device_id is not null then $8::int else $9::int end`);
  const known = { ...request, attemptBucket: request.deviceId };
  const unknown = { ...request, attemptBucket: undefined };
  return {
    sql,
    params: [
      userAggregate.streamId(''), authenticatorsAggregate.streamId(''), deps.clock.now(),
      passwordLoginAppends.trustedDevice + sessionStartAppends(known), passwordLoginAppends.mfaPending,
      passwordLoginAppends.completed + sessionStartAppends(known), passwordLoginAppends.completed + sessionStartAppends(unknown),
    ],
  };
}
