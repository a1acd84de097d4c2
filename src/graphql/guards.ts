// Checks shared by resolvers: who the caller is, and whether a sensitive change is allowed now.
import { DomainError } from '../domain/shared/errors.js';
import type { RequestInfo } from '../domain/shared/request.js';
import { isRecentlyAuthenticated } from '../domain/session/state.js';
import { hasSecondFactor } from '../domain/authenticators/state.js';
import { loadAuthenticators } from '../domain/login/handle.js';
import type { AuthContext, GraphQLContext } from './context.js';

export type SessionAuth = Extract<AuthContext, { kind: 'session' }>;
export type PendingAuth = Extract<AuthContext, { kind: 'pending' }>;

export function requestInfo(ctx: GraphQLContext): RequestInfo {
  return { ip: ctx.ip, userAgent: ctx.userAgent, metadata: ctx.metadata() };
}

export function requireSession(ctx: GraphQLContext, options: { allowEnrollOnly?: boolean } = {}): SessionAuth {
  if (ctx.auth.kind !== 'session') throw new DomainError('NOT_AUTHENTICATED');
  if (ctx.auth.session.enrollOnly && !options.allowEnrollOnly) throw new DomainError('MFA_REQUIRED', 'Set up a second factor first.');
  return ctx.auth;
}

/** A pending login grants nothing but its next step: only the MFA-step resolvers call this. */
export function requirePendingLogin(ctx: GraphQLContext): PendingAuth {
  if (ctx.auth.kind !== 'pending') throw new DomainError('FLOW_NOT_PENDING');
  return ctx.auth;
}

/**
 * Sensitive changes (password, email, factors, account deletion) need a recent authentication of the session, and,
 * for a user who has a second factor, a session that used it (AAL2).
 */
export async function requireSensitiveChangeAllowed(ctx: GraphQLContext): Promise<SessionAuth> {
  const auth = requireSession(ctx, { allowEnrollOnly: true });
  const { config, clock } = ctx.app;
  if (!isRecentlyAuthenticated(auth.session, clock.now(), config.reauthenticationTtlSeconds)) throw new DomainError('REAUTHENTICATION_REQUIRED');
  if (auth.session.aal < 2) {
    const { state } = await loadAuthenticators(ctx.app, auth.user.id);
    if (hasSecondFactor(state)) throw new DomainError('MFA_REQUIRED');
  }
  return auth;
}

export function setSessionCookie(ctx: GraphQLContext, token: string, maxAgeSeconds: number): void {
  ctx.cookies.push({ name: 'tessera_session', value: token, maxAgeSeconds });
}

export function clearSessionCookie(ctx: GraphQLContext): void {
  ctx.cookies.push({ name: 'tessera_session', value: '', maxAgeSeconds: 0 });
}

/**
 * Adding a factor: allowed to a session limited to enrolling one (that is what it is for), but only while its
 * authentication is recent, so an old stolen session cannot enrol the attacker's factor and hold the recovery codes.
 * Next to an existing factor it is a sensitive change like any other (AAL2 as well).
 */
export async function requireMayAddFactor(ctx: GraphQLContext): Promise<SessionAuth> {
  const auth = requireSession(ctx, { allowEnrollOnly: true });
  const { state } = await loadAuthenticators(ctx.app, auth.user.id);
  if (hasSecondFactor(state)) return requireSensitiveChangeAllowed(ctx);
  if (!isRecentlyAuthenticated(auth.session, ctx.app.clock.now(), ctx.app.config.reauthenticationTtlSeconds)) throw new DomainError('REAUTHENTICATION_REQUIRED');
  return auth;
}
