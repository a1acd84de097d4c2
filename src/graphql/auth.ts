// Accounts, password login, sessions and the login state machine over GraphQL (DESIGN.md §5).
import { z } from 'zod';
import { DomainError } from '../domain/shared/errors.js';
import { prepareSignUp, registerUserIn, changeEmail } from '../domain/user/handle.js';
import { changePassword, deleteAccount, verifyUserPassword } from '../domain/user/account.js';
import { abandonLogin, loadAuthenticators, startPasswordLogin } from '../domain/login/handle.js';
import { availableFactorTypes, hasSecondFactor } from '../domain/authenticators/state.js';
import { loadUser } from '../domain/user/handle.js';
import { mfaRequirement } from '../domain/user/policy.js';
import { reauthenticateSession, revokeSession, startSessionIn } from '../domain/session/handle.js';
import { listActiveSessions } from '../projections/sessions.js';
import { resolveAuth } from '../domain/session/resolveAuth.js';
import { retryOnConflict } from '../domain/shared/streams.js';
import { builder } from './builder.js';
import type { GraphQLContext, UserView } from './context.js';
import { clearSessionCookie, requestInfo, requireSensitiveChangeAllowed, requireSession, setSessionCookie } from './guards.js';
import { AuthenticatorTypeEnum, FlowRef, sessionFromView, SessionRef, UserRef, type FlowShape, type SessionShape } from './types.js';
import { emailSchema, idSchema, parseInput, passwordInputSchema } from './validation.js';

// ---------- authState and config ----------

interface AuthStateShape {
  isAuthenticated: boolean;
  user: UserView | null;
  session: SessionShape | null;
  flows: FlowShape[];
  mfaEnrollmentDeadline: Date | null;
}

export async function authStateOf(ctx: GraphQLContext): Promise<AuthStateShape> {
  const { config } = ctx.app;
  const auth = ctx.auth;
  if (auth.kind === 'pending') {
    const expired = ctx.app.clock.now() >= auth.flow.expiresAt;
    return {
      isAuthenticated: false, user: null, session: null, mfaEnrollmentDeadline: null,
      flows: expired ? anonymousFlows(ctx) : [{ id: 'MFA_AUTHENTICATE', isPending: true, types: auth.flow.types as FlowShape['types'], expiresAt: auth.flow.expiresAt }],
    };
  }
  if (auth.kind === 'anonymous') return { isAuthenticated: false, user: null, session: null, flows: anonymousFlows(ctx), mfaEnrollmentDeadline: null };
  const [{ state: authenticators }, { state: user }] = await Promise.all([loadAuthenticators(ctx.app, auth.user.id), loadUser(ctx.app, auth.user.id)]);
  const requirement = mfaRequirement(user, hasSecondFactor(authenticators), ctx.app.clock.now(), config.adminMfaGraceSeconds);
  const flows: FlowShape[] = auth.session.enrollOnly
    ? [{ id: 'MFA_ENROLL_REQUIRED', isPending: true, types: config.mfaSupportedTypes.filter((t) => t !== 'recovery_codes').map((t) => t.toUpperCase()) as FlowShape['types'] }]
    : [{ id: 'REAUTHENTICATE', isPending: false, types: null }];
  const types = availableFactorTypes(authenticators);
  if (!auth.session.enrollOnly && types.length > 0) flows.push({ id: 'MFA_REAUTHENTICATE', isPending: false, types });
  return { isAuthenticated: !auth.session.enrollOnly, user: auth.user, session: sessionFromView(auth.session), flows, mfaEnrollmentDeadline: requirement.deadline };
}

function anonymousFlows(ctx: GraphQLContext): FlowShape[] {
  const flows: FlowShape[] = [{ id: 'LOGIN', isPending: false, types: null }, { id: 'SIGNUP', isPending: false, types: null }];
  if (ctx.app.config.passkeyLoginEnabled) flows.push({ id: 'MFA_LOGIN_WEBAUTHN', isPending: false, types: null });
  if (ctx.app.config.passkeySignupEnabled) flows.push({ id: 'MFA_SIGNUP_WEBAUTHN', isPending: false, types: null });
  return flows;
}

export const AuthStateRef = builder.objectRef<AuthStateShape>('AuthState').implement({
  fields: (t) => ({
    isAuthenticated: t.exposeBoolean('isAuthenticated'),
    user: t.field({ type: UserRef, nullable: true, resolve: (s) => s.user }),
    session: t.field({ type: SessionRef, nullable: true, resolve: (s) => s.session }),
    flows: t.field({ type: [FlowRef], resolve: (s) => s.flows }),
    mfaEnrollmentDeadline: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'For a privileged user without a second factor: when logins become limited to setting one up.',
      resolve: (s) => s.mfaEnrollmentDeadline,
    }),
  }),
});

builder.queryField('authState', (t) => t.field({ type: AuthStateRef, resolve: (_root, _args, ctx) => authStateOf(ctx) }));

builder.queryField('me', (t) =>
  t.field({ type: UserRef, nullable: true, resolve: (_root, _args, ctx) => (ctx.auth.kind === 'session' && !ctx.auth.session.enrollOnly ? ctx.auth.user : null) }),
);

const MfaConfigRef = builder.objectRef<GraphQLContext['app']['config']>('MfaConfig').implement({
  fields: (t) => ({
    supportedTypes: t.field({ type: [AuthenticatorTypeEnum], resolve: (c) => c.mfaSupportedTypes.map((s) => s.toUpperCase() as 'TOTP' | 'WEBAUTHN' | 'RECOVERY_CODES') }),
    passkeyLoginEnabled: t.exposeBoolean('passkeyLoginEnabled'),
    passkeySignupEnabled: t.exposeBoolean('passkeySignupEnabled'),
  }),
});
const SessionsConfigRef = builder.objectRef<GraphQLContext['app']['config']>('SessionsConfig').implement({
  fields: (t) => ({ trackActivity: t.exposeBoolean('trackSessionActivity') }),
});
const ConfigRef = builder.objectRef<GraphQLContext['app']['config']>('Config').implement({
  fields: (t) => ({
    mfa: t.field({ type: MfaConfigRef, resolve: (c) => c }),
    sessions: t.field({ type: SessionsConfigRef, resolve: (c) => c }),
  }),
});
builder.queryField('config', (t) => t.field({ type: ConfigRef, resolve: (_root, _args, ctx) => ctx.app.config }));

// ---------- signup, login, logout ----------

/** What every mutation that changes who the caller is answers: the new state and, for app clients, the token. */
export interface AuthPayloadShape {
  sessionToken: string | null;
  ctx: GraphQLContext;
}

export const AuthPayloadRef = builder.objectRef<AuthPayloadShape>('AuthPayload').implement({
  fields: (t) => ({
    sessionToken: t.string({
      nullable: true,
      description: 'For app clients (Authorization: Bearer). Browsers get the same token as an HttpOnly cookie.',
      resolve: (p) => p.sessionToken,
    }),
    authState: t.field({ type: AuthStateRef, resolve: (p) => authStateOf(p.ctx) }),
  }),
});

const credentialsSchema = z.object({ email: emailSchema, password: passwordInputSchema });
const CredentialsInput = builder.inputType('CredentialsInput', {
  fields: (t) => ({ email: t.string({ required: true }), password: t.string({ required: true }) }),
});

/** Replaces the caller's auth in this request's context, so the payload's authState shows the new state. */
export async function adoptToken(ctx: GraphQLContext, token: string, maxAgeSeconds: number): Promise<AuthPayloadShape> {
  setSessionCookie(ctx, token, maxAgeSeconds);
  ctx.auth = await resolveAuth(ctx.app, token, { ip: ctx.ip, userAgent: ctx.userAgent });
  return { sessionToken: token, ctx };
}

builder.mutationField('signup', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    args: { input: t.arg({ type: CredentialsInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(credentialsSchema, args.input);
      if (ctx.auth.kind === 'session') throw new DomainError('CONFLICT', 'Already signed in.');
      const request = requestInfo(ctx);
      const prepared = await prepareSignUp(ctx.app, input);
      const session = await retryOnConflict(() =>
        ctx.app.store.transaction(async (tx) => {
          await registerUserIn(ctx.app, tx, prepared, { ...request, metadata: { ...request.metadata, actor: 'anonymous' } });
          return startSessionIn(ctx.app, tx, { userId: prepared.userId, aal: 1, methods: [{ method: 'password', at: ctx.app.clock.now().toISOString() }], enrollOnly: false }, request);
        }),
      );
      return adoptToken(ctx, session.token, ctx.app.config.sessionAbsoluteTimeoutSeconds);
    },
  }),
);

builder.mutationField('login', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    args: { input: t.arg({ type: CredentialsInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(credentialsSchema, args.input);
      const outcome = await startPasswordLogin(ctx.app, input, requestInfo(ctx));
      if (outcome.kind === 'mfa_pending') return adoptToken(ctx, outcome.token, ctx.app.config.loginFlowTtlSeconds);
      return adoptToken(ctx, outcome.session.token, ctx.app.config.sessionAbsoluteTimeoutSeconds);
    },
  }),
);

const LogoutPayloadRef = builder.objectRef<{ ok: boolean }>('LogoutPayload').implement({ fields: (t) => ({ ok: t.exposeBoolean('ok') }) });

builder.mutationField('logout', (t) =>
  t.field({
    errors: {},
    type: LogoutPayloadRef,
    resolve: async (_root, _args, ctx) => {
      const auth = ctx.auth;
      if (auth.kind === 'session') await revokeSession(ctx.app, auth.session.id, 'logout', requestInfo(ctx));
      if (auth.kind === 'pending') await abandonLogin(ctx.app, auth.flow.flowId, requestInfo(ctx));
      clearSessionCookie(ctx);
      ctx.auth = { kind: 'anonymous' };
      return { ok: true };
    },
  }),
);

// ---------- reauthentication and sensitive changes ----------

/**
 * Password, email and account deletion: the sensitive-change rule, and never from an enrol-only session. That session
 * (an admin past the MFA grace period) exists to set up a factor; letting it change the password or email would let
 * whoever holds only the password take the account over without ever meeting the MFA requirement.
 */
async function requireAccountChangeAllowed(ctx: GraphQLContext) {
  requireSession(ctx);
  return requireSensitiveChangeAllowed(ctx);
}

const ReauthenticateInput = builder.inputType('ReauthenticateInput', { fields: (t) => ({ password: t.string({ required: true }) }) });

builder.mutationField('reauthenticate', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    args: { input: t.arg({ type: ReauthenticateInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { password } = parseInput(z.object({ password: passwordInputSchema }), args.input);
      const auth = requireSession(ctx, { allowEnrollOnly: true });
      if (!(await verifyUserPassword(ctx.app, auth.user.id, password, requestInfo(ctx)))) throw new DomainError('INVALID_CREDENTIALS');
      const token = await reauthenticateSession(ctx.app, auth.session.id, 'reauthentication', auth.session.aal, requestInfo(ctx));
      return adoptToken(ctx, token, ctx.app.config.sessionAbsoluteTimeoutSeconds);
    },
  }),
);

const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  fields: (t) => ({ currentPassword: t.string({ required: true }), newPassword: t.string({ required: true }) }),
});
const ChangePasswordPayloadRef = builder.objectRef<{ endedSessionCount: number }>('ChangePasswordPayload').implement({
  fields: (t) => ({ endedSessionCount: t.exposeInt('endedSessionCount', { description: 'Other sessions ended by the change.' }) }),
});

builder.mutationField('changePassword', (t) =>
  t.field({
    errors: {},
    type: ChangePasswordPayloadRef,
    args: { input: t.arg({ type: ChangePasswordInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(z.object({ currentPassword: passwordInputSchema, newPassword: passwordInputSchema }), args.input);
      const auth = await requireAccountChangeAllowed(ctx);
      const { endedSessions } = await changePassword(ctx.app, { userId: auth.user.id, sessionId: auth.session.id, ...input }, requestInfo(ctx));
      return { endedSessionCount: endedSessions.length };
    },
  }),
);

const ChangeEmailInput = builder.inputType('ChangeEmailInput', { fields: (t) => ({ email: t.string({ required: true }) }) });

builder.mutationField('changeEmail', (t) =>
  t.field({
    errors: {},
    type: UserRef,
    args: { input: t.arg({ type: ChangeEmailInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { email } = parseInput(z.object({ email: emailSchema }), args.input);
      const auth = await requireAccountChangeAllowed(ctx);
      await changeEmail(ctx.app, auth.user.id, email, requestInfo(ctx));
      return { ...auth.user, email };
    },
  }),
);

builder.mutationField('deleteAccount', (t) =>
  t.field({
    errors: {},
    type: LogoutPayloadRef,
    resolve: async (_root, _args, ctx) => {
      const auth = await requireAccountChangeAllowed(ctx);
      await deleteAccount(ctx.app, auth.user.id, requestInfo(ctx));
      clearSessionCookie(ctx);
      ctx.auth = { kind: 'anonymous' };
      return { ok: true };
    },
  }),
);

const RevokeSessionsInput = builder.inputType('RevokeSessionsInput', { fields: (t) => ({ ids: t.idList({ required: true }) }) });
const RevokeSessionsPayloadRef = builder.objectRef<{ revokedIds: string[] }>('RevokeSessionsPayload').implement({
  fields: (t) => ({ revokedIds: t.exposeIDList('revokedIds') }),
});

builder.mutationField('revokeSessions', (t) =>
  t.field({
    errors: {},
    type: RevokeSessionsPayloadRef,
    args: { input: t.arg({ type: RevokeSessionsInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { ids } = parseInput(z.object({ ids: z.array(idSchema).min(1).max(100) }), args.input);
      const auth = requireSession(ctx);
      // Only the caller's own sessions: someone else's id is simply not found, never revoked.
      const own = new Set((await listActiveSessions(ctx.app.db, auth.user.id)).map((s) => s.session_id));
      const revokedIds = ids.filter((id) => own.has(id));
      for (const id of revokedIds) await revokeSession(ctx.app, id, 'revoked', requestInfo(ctx));
      if (revokedIds.includes(auth.session.id)) {
        clearSessionCookie(ctx);
        ctx.auth = { kind: 'anonymous' };
      }
      return { revokedIds };
    },
  }),
);
