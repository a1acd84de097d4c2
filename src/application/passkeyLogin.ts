// LoginWithPasskey (MFA_LOGIN_WEBAUTHN): a user-verified passkey alone starts an AAL2 session. The account is the one
// the credential id was registered to (its claim stream); the assertion's userHandle must name the same account, and
// a key registered as a second factor is refused. The key's use, the one-step login flow and the session commit in
// one transaction (verifyAssertion).
import { extractCredentialId, extractUserHandle, userIdFromUserHandle } from '../crypto/webauthn/responses.js';
import { bindings, consumeChallenge } from '../db/webauthnChallenges.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { deviceAndStanding } from '../projections/accountFailures.js';
import type { ReadAheadJoin } from '../projections/projector.js';
import { accountAttempt, attemptFrom, spendAttempt, unknownAttempt } from './attempts.js';
import { factorLoginAppends, factorLoginAppendsByDevice } from './appendCounts.js';
import { completePasskeyLoginIn } from './loginFlow.js';
import { actingAs, type RequestFacts } from './request.js';
import type { IssuedSession } from './sessions.js';
import { parseInput } from './validation.js';
import { answerOf, assertionInputSchema, verifyAssertion, type AssertionDeps } from './webauthnAuthentication.js';
import { ceremonyTokenSchema, findCredentialOwner } from './webauthnCredentials.js';

export const passkeyLoginInputSchema = assertionInputSchema.extend({ ceremonyToken: ceremonyTokenSchema });

/**
 * `input` is the credential and, from app clients, the ceremony token; a browser's token arrives in its ceremony
 * cookie instead (`ceremonyCookie`), which the input's token overrides.
 */
export async function loginWithPasskey(
  deps: AssertionDeps, input: unknown, ceremony: { ceremonyCookie: string | undefined }, request: RequestFacts,
): Promise<IssuedSession> {
  if (!deps.config.passkeyLoginEnabled) throw new DomainError('FEATURE_DISABLED');
  // Parsed before the attempt is drawn: whose budget it is depends on the credential id.
  const { credential, ceremonyToken: given } = parseInput(passkeyLoginInputSchema, input);
  const ceremonyToken = given ?? ceremony.ceremonyCookie;
  const credentialId = extractCredentialId(credential) ?? '';
  // Whose credential it is, and (read in the same round trip) the standing of the account its user handle names: the
  // handle is only a hint, used when the credential turns out to be that account's (a genuine assertion's always is).
  // With that standing come the named account's factors and user streams and the positions its login appends (a read
  // ahead: passkeyLoginReadAhead), so the login's transaction reads and draws nothing before its append.
  const named = userIdFromUserHandle(extractUserHandle(credential) ?? '');
  const { userId, standing } = await deps.db.together(async (q) => {
    const [owner, read] = await Promise.all([
      findCredentialOwner(deps, credentialId, q), named ? deviceAndStanding(q, request.deviceId, named, passkeyLoginReadAhead(deps, request, named)) : null,
    ]);
    return { userId: owner, standing: owner !== null && owner === named ? read : null };
  });
  // An unknown credential still spends from a budget of its own, so probing credential ids is throttled too.
  const attempt = !userId ? unknownAttempt(`credential:${credentialId.slice(0, 64)}`, request)
    : standing ? attemptFrom(userId, request, standing) : await accountAttempt(deps, userId, request);
  const outcome = await spendAttempt(deps, attempt, async (request) => {
    if (!ceremonyToken) throw new DomainError('CHALLENGE_INVALID');
    if (!userId) {
      // Nobody to verify against, but the ceremony is still used up: it cannot be retried with another credential id.
      await consumeChallenge(deps, { binding: bindings.ceremony(ceremonyToken), purpose: 'passkey_login', userId: null });
      throw new DomainError('WEBAUTHN_VERIFICATION_FAILED');
    }
    const asOwner = actingAs(request, userId);
    return verifyAssertion(deps, {
      userId, binding: bindings.ceremony(ceremonyToken), challengePurpose: 'passkey_login', purpose: 'passkey_login',
      requireUserVerification: true, requireUserHandle: true,
    }, credential, asOwner, {
      accepted: (tx) => completePasskeyLoginIn(deps, tx, userId, asOwner),
      readsAhead: [userAggregate.streamId(userId)], ahead: standing?.readAhead, appendsAhead: factorLoginAppends(asOwner),
    });
  }, (o) => o.accepted);
  return answerOf(outcome);
}

/**
 * What a passkey login reads and draws after finding the account its user handle names, in the statement that reads
 * that account's standing (deviceAndStanding): the account's factors and user streams (from their snapshots) and the
 * positions a success appends, fewer when the device is known to the account (st.device_known: its attempt then
 * counts in the device's own bucket, and the session records no DeviceSeen). Used only when the credential turns out
 * to be that account's; otherwise the positions are gaps, as a failed login's are. PostgreSQL only.
 */
function passkeyLoginReadAhead(deps: AssertionDeps, request: RequestFacts, userId: string): ReadAheadJoin | undefined {
  if (deps.db.kind !== 'postgres') return undefined;
  return {
    sql: deps.store.readAheadSql('array[$3::text, $4::text]', 'case when st.device_known then $5::int else $6::int end'),
    params: [authenticatorsAggregate.streamId(userId), userAggregate.streamId(userId), ...factorLoginAppendsByDevice(request)],
  };
}
