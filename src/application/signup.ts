// SignUp with a password: the email's claim stream and the new user stream commit together, so of two racing signups
// exactly one wins; the session starts in the same transaction. The hash runs once, before the transaction opens,
// however often the transaction retries.
import type { Queryable } from '../db/index.js';
import { checkPasswordPolicy } from '../crypto/password.js';
import { newId } from '../crypto/tokens.js';
import { DomainError } from '../domain/shared/errors.js';
import { findUserByEmail } from '../projections/users.js';
import { emailClaimAggregate, userAggregate } from '../domain/user/aggregate.js';
import type { Caller } from './caller.js';
import { handle } from './commandHandler.js';
import type { Deps, WriteDeps } from './deps.js';
import { actingAs, type RequestFacts } from './request.js';
import { decoySubject, issueFlowToken, requestEmailVerificationIn } from './emailVerification.js';
import { startSessionIn, type IssuedToken } from './sessions.js';

export function assertPasswordPolicy(password: string, field: string): void {
  const violation = checkPasswordPolicy(password);
  if (violation === null) return;
  const messages = {
    TOO_SHORT: 'must be at least 8 characters',
    TOO_LONG: 'must be at most 256 characters',
    TOO_COMMON: 'is too common; choose another',
  } as const;
  throw new DomainError('WEAK_PASSWORD', `${field} ${messages[violation]}`, { field });
}

export interface NewAccount {
  userId: string;
  email: string;
  /** Null for a passkey-only account. */
  passwordHash: string | null;
}

/** The email claim and UserRegistered, in the caller's transaction (password and passkey signups alike). */
export async function registerUserIn(deps: WriteDeps & Pick<Deps, 'personalData'>, tx: Queryable, account: NewAccount, request: RequestFacts): Promise<void> {
  const now = deps.clock.now().toISOString();
  // The user's data key is created by this transaction's first sealing append (UserRegistered's): see personalDataVault.
  await handle(deps, tx, emailClaimAggregate, deps.personalData.hashes.email(account.email), { type: 'ClaimEmail', data: { userId: account.userId, now } }, request);
  await handle(deps, tx, userAggregate, account.userId, { type: 'SignUp', data: { userId: account.userId, email: account.email, passwordHash: account.passwordHash, now } }, request);
}

type SignupDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'passwords' | 'personalData'>;
type PublicSignupDeps = SignupDeps & Pick<Deps, 'attempts' | 'db' | 'secrets'>;

/** The account alone (operators' CLI): no session. */
export async function createAccount(deps: SignupDeps, input: { email: string; password: string }, request: RequestFacts): Promise<{ userId: string }> {
  assertPasswordPolicy(input.password, 'password');
  const account = { userId: newId(), email: input.email, passwordHash: await deps.passwords.hash(input.password) };
  await deps.store.transactionWithRetry((tx) => registerUserIn(deps, tx, account, request));
  return { userId: account.userId };
}

/**
 * Signup from anywhere: the cheap checks first (signed in, password policy), then one unit of the client address's
 * budget (an anonymous request that hashes and writes, so one address cannot mint accounts or burn argon2 time at
 * will). With ACCOUNT_EMAIL_VERIFICATION none or optional a taken address is refused (EMAIL_TAKEN: the enumeration
 * trade-off the README states) and the new account is signed in at once (optional: a code goes to the address). With
 * mandatory nobody is signed in: the answer is a pending VERIFY_EMAIL flow, the same for a taken address, whose owner
 * is told instead (SignupAttempted), after the same work (the hash).
 */
export async function signup(deps: PublicSignupDeps, caller: Caller, input: { email: string; password: string }, request: RequestFacts): Promise<IssuedToken> {
  if (caller.kind === 'session') throw new DomainError('ALREADY_AUTHENTICATED');
  assertPasswordPolicy(input.password, 'password');
  await deps.attempts.consumeAddress(request.clientAddress);
  const mode = deps.config.emailVerification;
  const existing = await findUserByEmail(deps.db, deps.personalData.hashes.email(input.email));
  if (existing && mode !== 'mandatory') throw new DomainError('EMAIL_TAKEN');
  const account = { userId: newId(), email: input.email, passwordHash: await deps.passwords.hash(input.password) };
  const anonymous = actingAs(request, 'anonymous');
  if (mode === 'mandatory') {
    const registered = await deps.store.transactionWithRetry(async (tx) => {
      if (existing) {
        await handle(deps, tx, userAggregate, existing.user_id, { type: 'RecordSignupAttempt', data: { now: deps.clock.now().toISOString() } }, anonymous);
        return false;
      }
      await registerUserIn(deps, tx, account, anonymous);
      await requestEmailVerificationIn(deps, tx, account.userId, null, anonymous);
      return true;
    }).catch((error: unknown) => {
      // Lost a race for the address to another signup: answered as for a taken address (that owner's notice aside).
      if (error instanceof DomainError && error.code === 'EMAIL_TAKEN') return false;
      throw error;
    });
    return issueFlowToken(deps, 'verify_email', registered ? account.userId : decoySubject());
  }
  return deps.store.transactionWithRetry(async (tx) => {
    await registerUserIn(deps, tx, account, anonymous);
    if (mode === 'optional') await requestEmailVerificationIn(deps, tx, account.userId, null, anonymous);
    return startSessionIn(deps, tx, { userId: account.userId, aal: 1, methods: [{ method: 'password', at: deps.clock.now().toISOString() }], enrollOnly: false }, request);
  });
}
