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
import { startSessionIn, type IssuedSession } from './sessions.js';

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
type PublicSignupDeps = SignupDeps & Pick<Deps, 'attempts' | 'db'>;

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
 * will), then a taken address is refused before any hashing; the email claim still decides a race.
 */
export async function signup(deps: PublicSignupDeps, caller: Caller, input: { email: string; password: string }, request: RequestFacts): Promise<IssuedSession> {
  if (caller.kind === 'session') throw new DomainError('ALREADY_AUTHENTICATED');
  assertPasswordPolicy(input.password, 'password');
  await deps.attempts.consumeAddress(request.clientAddress);
  if (await findUserByEmail(deps.db, deps.personalData.hashes.email(input.email))) throw new DomainError('EMAIL_TAKEN');
  const account = { userId: newId(), email: input.email, passwordHash: await deps.passwords.hash(input.password) };
  return deps.store.transactionWithRetry(async (tx) => {
    await registerUserIn(deps, tx, account, actingAs(request, 'anonymous'));
    return startSessionIn(deps, tx, { userId: account.userId, aal: 1, methods: [{ method: 'password', at: deps.clock.now().toISOString() }], enrollOnly: false }, request);
  });
}
