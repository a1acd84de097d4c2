// Account commands: load, verify (argon2), decide, append. Email ownership is decided on its own stream.
import { createHash } from 'node:crypto';
import type { Queryable } from '../../db/index.js';
import type { App } from '../../app.js';
import { checkPasswordPolicy } from '../../crypto/password.js';
import { newId } from '../../crypto/tokens.js';
import { DomainError } from '../shared/errors.js';
import type { RequestInfo } from '../shared/request.js';
import { loadAggregate, retryOnConflict, streams } from '../shared/streams.js';
import type { EmailClaimCommand, UserCommand } from './commands.js';
import { decideEmailClaim, decideUser } from './decide.js';
import { evolveEmailClaim, evolveUser, initialEmailClaimState, initialUserState, type UserState } from './state.js';

export function emailStreamId(email: string): string {
  // The address itself stays out of stream ids (they are copied into logs and indexes).
  return streams.emailClaim(createHash('sha256').update(email).digest('hex').slice(0, 40));
}

export function loadUser(app: App, userId: string, tx?: Queryable) {
  return loadAggregate(app.store, streams.user(userId), initialUserState, evolveUser, tx);
}

export async function executeUser(app: App, tx: Queryable, userId: string, command: UserCommand, request: RequestInfo): Promise<UserState> {
  const { state, version } = await loadUser(app, userId, tx);
  const events = decideUser(command, state);
  if (events.length > 0) await app.store.append(streams.user(userId), events, { expectedVersion: version, metadata: request.metadata, now: app.clock.now(), tx });
  return events.reduce(evolveUser, state);
}

async function executeEmailClaim(app: App, tx: Queryable, email: string, command: EmailClaimCommand, request: RequestInfo): Promise<void> {
  const streamId = emailStreamId(email);
  const { state, version } = await loadAggregate(app.store, streamId, initialEmailClaimState, evolveEmailClaim, tx);
  const events = decideEmailClaim(command, state);
  if (events.length > 0) await app.store.append(streamId, events, { expectedVersion: version, metadata: request.metadata, now: app.clock.now(), tx });
}

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

export interface PreparedSignUp {
  userId: string;
  email: string;
  /** Null for a passkey-only account. */
  passwordHash: string | null;
}

/** The slow half of SignUp (policy, argon2), done before any transaction is opened and once however often it retries. */
export async function prepareSignUp(app: App, input: { email: string; password: string }): Promise<PreparedSignUp> {
  assertPasswordPolicy(input.password, 'password');
  return { userId: newId(), email: input.email, passwordHash: await app.passwords.hash(input.password) };
}

/** SignUp: the email's claim stream and the new user stream commit together; of two racing signups exactly one wins. */
export async function registerUserIn(app: App, tx: Queryable, prepared: PreparedSignUp, request: RequestInfo): Promise<void> {
  await registerIn(app, tx, prepared.userId, prepared.email, prepared.passwordHash, request);
}

export async function signUp(app: App, input: { email: string; password: string }, request: RequestInfo): Promise<{ userId: string }> {
  const prepared = await prepareSignUp(app, input);
  await retryOnConflict(() => app.store.transaction((tx) => registerUserIn(app, tx, prepared, request)));
  return { userId: prepared.userId };
}

async function registerIn(app: App, tx: Queryable, userId: string, email: string, passwordHash: string | null, request: RequestInfo): Promise<void> {
  const now = app.clock.now().toISOString();
  await executeEmailClaim(app, tx, email, { type: 'ClaimEmail', data: { userId, now } }, request);
  await executeUser(app, tx, userId, { type: 'SignUp', data: { userId, email, passwordHash, now } }, request);
}

export async function changeEmail(app: App, userId: string, email: string, request: RequestInfo): Promise<void> {
  await retryOnConflict(() =>
    app.store.transaction(async (tx) => {
      const { state } = await loadUser(app, userId, tx);
      if (state.email === email) return;
      const now = app.clock.now().toISOString();
      await executeEmailClaim(app, tx, email, { type: 'ClaimEmail', data: { userId, now } }, request);
      await executeEmailClaim(app, tx, state.email!, { type: 'ReleaseEmail', data: { userId, now } }, request);
      await executeUser(app, tx, userId, { type: 'ChangeEmail', data: { email, now } }, request);
    }),
  );
}

export async function grantRole(app: App, userId: string, role: string, request: RequestInfo): Promise<void> {
  await retryOnConflict(() =>
    app.store.transaction((tx) => executeUser(app, tx, userId, { type: 'GrantRole', data: { role, now: app.clock.now().toISOString() } }, request)),
  );
}
