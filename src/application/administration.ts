// The administrator's tools (issue 18): require MFA of one user or lift the requirement, reset a user's MFA, revoke a
// role, sign a user out everywhere, and list users with their MFA status. Each change is an event naming the acting
// administrator (and the reason, where one is given); each is announced to the user by the notification reactor.
// Through GraphQL the administrator is an `admin` at AAL2 (checked here, so every transport gets the same answer);
// through the CLI it is the operator at the machine ('operator').
import { z } from 'zod';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { DomainError } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { knownRoles } from '../domain/user/decide.js';
import { mfaDeadline, mfaPolicyOf } from '../domain/user/policy.js';
import { initialUserState } from '../domain/user/state.js';
import { listActiveSessions } from '../projections/sessions.js';
import { listUsersWithMfa, type UserListFilter } from '../projections/userMfa.js';
import type { Caller } from './caller.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { revokeAllDeviceTrustIn } from './devices.js';
import { abandonPendingLoginsIn } from './loginFlow.js';
import type { RequestFacts } from './request.js';
import { revokeSessionIn } from './sessions.js';
import { emailSchema, idSchema, parseInput } from './validation.js';

type AdminDeps = Pick<Deps, 'store' | 'clock' | 'config' | 'db'>;

/** Who acts: an admin's user id, or 'operator' (the CLI, run by whoever holds the server's configuration). */
export interface Administrator {
  by: string;
}

export const operator: Administrator = { by: 'operator' };

/**
 * An administrator over the API: a full session (never one limited to enrolling a factor) of an `admin`, verified with
 * a strong second factor (AAL2; an email code never gives that). The schema's scopes say the same; this is the rule.
 */
export function requireAdministrator(caller: Caller): Administrator {
  if (caller.kind !== 'session') throw new DomainError('NOT_AUTHENTICATED');
  if (caller.session.enrollOnly) throw new DomainError('MFA_REQUIRED', 'Set up a second factor first.');
  if (!caller.user.roles.includes('admin')) throw new DomainError('FORBIDDEN');
  if (caller.session.aal < 2) throw new DomainError('MFA_REQUIRED');
  return { by: caller.user.id };
}

const reasonSchema = z.string().trim().min(1, 'is required').max(500, 'is too long').refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), 'must not contain control characters');
const optionalReason = reasonSchema.nullish().transform((r) => r ?? null);

export const requireMfaInputSchema = z.object({ userId: idSchema, deadline: z.coerce.date().refine((d) => !Number.isNaN(d.getTime()), 'is not a date'), reason: optionalReason });
export const liftMfaRequirementInputSchema = z.object({ userId: idSchema, reason: optionalReason });
export const resetUserMfaInputSchema = z.object({ userId: idSchema, reason: reasonSchema });
export const revokeRoleInputSchema = z.object({ userId: idSchema, role: z.enum(knownRoles), reason: optionalReason });
export const signOutUserInputSchema = z.object({ userId: idSchema, reason: optionalReason });

async function requireUser(deps: AdminDeps, userId: string) {
  const loaded = await load(deps.store, userAggregate, userId);
  if (!loaded.state.exists || loaded.state.deleted) throw new DomainError('NOT_FOUND');
  return loaded;
}

/** requireMfa: the user must have a strong second factor by `deadline`; after it, their sessions may only enrol one. */
export async function requireMfa(deps: AdminDeps, admin: Administrator, input: unknown, request: RequestFacts): Promise<{ userId: string; deadline: Date }> {
  const { userId, deadline, reason } = parseInput(requireMfaInputSchema, input);
  await requireUser(deps, userId);
  await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, userAggregate, userId, { type: 'RequireMfa', data: { deadline: deadline.toISOString(), by: admin.by, reason, now: deps.clock.now().toISOString() } }, request));
  return { userId, deadline };
}

/** liftMfaRequirement: the administrator's requirement ends (a role of MFA_REQUIRED_ROLES still requires a factor). */
export async function liftMfaRequirement(deps: AdminDeps, admin: Administrator, input: unknown, request: RequestFacts): Promise<{ userId: string; lifted: boolean }> {
  const { userId, reason } = parseInput(liftMfaRequirementInputSchema, input);
  await requireUser(deps, userId);
  const { events } = await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, userAggregate, userId, { type: 'LiftMfaRequirement', data: { by: admin.by, reason, now: deps.clock.now().toISOString() } }, request));
  return { userId, lifted: events.length > 0 };
}

export interface MfaResetResult {
  userId: string;
  removedFactorCount: number;
  /** Passkeys kept because the account has no password: they are its only way in. */
  keptPasskeyCount: number;
  endedSessionCount: number;
}

/**
 * resetUserMfa: every factor and recovery code goes (a passkey-only account keeps its passkeys), every device loses
 * its trust, every session and pending login ends. All in one transaction: the user is never left half reset.
 */
export async function resetUserMfa(deps: AdminDeps, admin: Administrator, input: unknown, request: RequestFacts): Promise<MfaResetResult> {
  const { userId, reason } = parseInput(resetUserMfaInputSchema, input);
  return deps.store.transactionWithRetry(async (tx) => {
    const { state: user } = await load(deps.store, userAggregate, userId, tx);
    if (!user.exists || user.deleted) throw new DomainError('NOT_FOUND');
    const now = deps.clock.now().toISOString();
    const { events } = await handle(deps, tx, authenticatorsAggregate, userId, {
      type: 'ResetMfa', data: { userId, by: admin.by, reason, hasPassword: user.passwordHash !== null, now },
    }, request);
    const reset = events.find((e) => e.type === 'MfaReset');
    const kept = reset?.type === 'MfaReset' ? reset.data.keptAuthenticatorIds.length : 0;
    await revokeAllDeviceTrustIn(deps, tx, userId, 'mfa_reset', request);
    await abandonPendingLoginsIn(deps, tx, userId, request);
    const sessions = await listActiveSessions(tx, userId);
    for (const s of sessions) await revokeSessionIn(deps, tx, s.session_id, 'mfa_reset', request);
    return { userId, removedFactorCount: events.length - 1, keptPasskeyCount: kept, endedSessionCount: sessions.length };
  });
}

/** revokeRole by an administrator: RoleRevoked names who and why. The role's fields are closed from the next request. */
export async function revokeRoleAsAdministrator(deps: AdminDeps, admin: Administrator, input: unknown, request: RequestFacts): Promise<{ userId: string; role: string; revoked: boolean }> {
  const { userId, role, reason } = parseInput(revokeRoleInputSchema, input);
  await requireUser(deps, userId);
  const { events } = await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, userAggregate, userId, { type: 'RevokeRole', data: { role, by: admin.by, ...(reason ? { reason } : {}), now: deps.clock.now().toISOString() } }, request));
  return { userId, role, revoked: events.length > 0 };
}

/** signOutUser: every session and pending login of the user ends, and every device loses its trust. */
export async function signOutUser(deps: AdminDeps, admin: Administrator, input: unknown, request: RequestFacts): Promise<{ userId: string; endedSessionCount: number }> {
  const { userId, reason } = parseInput(signOutUserInputSchema, input);
  await requireUser(deps, userId);
  return deps.store.transactionWithRetry(async (tx) => {
    const sessions = await listActiveSessions(tx, userId);
    const now = deps.clock.now().toISOString();
    await handle(deps, tx, userAggregate, userId, { type: 'RecordSignOut', data: { by: admin.by, reason, sessionCount: sessions.length, now } }, request);
    for (const s of sessions) await revokeSessionIn(deps, tx, s.session_id, 'signed_out_by_admin', request);
    await abandonPendingLoginsIn(deps, tx, userId, request);
    await revokeAllDeviceTrustIn(deps, tx, userId, 'signed_out_everywhere', request);
    return { userId, endedSessionCount: sessions.length };
  });
}

export type FactorKind = 'TOTP' | 'WEBAUTHN' | 'EMAIL';

export interface UserMfaStatus {
  id: string;
  email: string;
  roles: string[];
  createdAt: Date;
  lockedUntil: Date | null;
  factorTypes: FactorKind[];
  lastMfaAt: Date | null;
  /** The administrator's deadline (requireMfa), if any. */
  requiredBy: Date | null;
  /** The deadline the policy gives (role grace period or the administrator's, the earlier); null when met or none applies. */
  deadline: Date | null;
}

export interface UsersPage {
  nodes: UserMfaStatus[];
  endCursor: string | null;
  hasNextPage: boolean;
}

export const usersPageInputSchema = z.object({
  first: z.number().int().min(1).max(100).nullish().transform((n) => n ?? 20),
  after: z.string().max(200).nullish().transform((s) => s ?? null),
  filter: z.object({
    role: z.enum(knownRoles).nullish().transform((r) => r ?? undefined),
    email: emailSchema.nullish().transform((e) => e ?? undefined),
    withoutStrongFactor: z.boolean().nullish().transform((b) => b ?? undefined),
  }).nullish().transform((f) => f ?? {}),
});

const cursorOf = (userId: string): string => Buffer.from(`user:${userId}`).toString('base64url');
function userIdOfCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  if (!decoded.startsWith('user:')) throw new DomainError('VALIDATION_FAILED', 'after: is not a cursor of this list', { field: 'after' });
  return decoded.slice('user:'.length);
}

/** The `users` list: a page of accounts by id with their MFA status, from the user_mfa projection. */
export async function listUsers(deps: Pick<Deps, 'db' | 'config'>, _admin: Administrator, input: unknown): Promise<UsersPage> {
  const { first, after, filter } = parseInput(usersPageInputSchema, input);
  const rows = await listUsersWithMfa(deps.db, { first: first + 1, after: after === null ? null : userIdOfCursor(after), filter: filter as UserListFilter });
  const policy = mfaPolicyOf(deps.config);
  const nodes = rows.slice(0, first).map((row): UserMfaStatus => {
    const factorTypes: FactorKind[] = [];
    if (row.totp) factorTypes.push('TOTP');
    if (Number(row.webauthn_count) > 0) factorTypes.push('WEBAUTHN');
    const strong = factorTypes.length > 0;
    if (row.email_factor) factorTypes.push('EMAIL');
    const createdAt = new Date(row.created_at);
    const requiredBy = row.mfa_required_by ? new Date(row.mfa_required_by) : null;
    const deadline = strong ? null : mfaDeadline({
      ...initialUserState, exists: true, roles: row.roles, createdAt: createdAt.toISOString(), roleGrantedAt: row.role_granted_at,
      mfaRequiredBy: requiredBy?.toISOString() ?? null,
    }, policy);
    return {
      id: row.user_id, email: row.email, roles: row.roles, createdAt, lockedUntil: row.locked_until ? new Date(row.locked_until) : null,
      factorTypes, lastMfaAt: row.last_mfa_at ? new Date(row.last_mfa_at) : null, requiredBy, deadline,
    };
  });
  const last = nodes[nodes.length - 1];
  return { nodes, endCursor: last ? cursorOf(last.id) : null, hasNextPage: rows.length > first };
}
