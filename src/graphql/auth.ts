// Accounts, password login, sessions and the login state machine over GraphQL (DESIGN.md §5). Each resolver parses its
// input, calls the use case and maps the result; the use cases own every rule.
import { z } from 'zod';
import { changeEmail, changePassword, deleteAccount } from '../application/accountChanges.js';
import { authStateOf, type AuthState } from '../application/authState.js';
import { logout } from '../application/logout.js';
import { passwordLogin } from '../application/passwordLogin.js';
import { reauthenticateWithPassword } from '../application/reauthentication.js';
import { revokeSessions } from '../application/sessions.js';
import { signup } from '../application/signup.js';
import { emailSchema, idSchema, parseInput, passwordInputSchema } from '../application/validation.js';
import type { Config } from '../config.js';
import { AuthenticatorTypeEnum } from './authenticators.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { adoptToken, callerOf, clearSessionCookie, forAppClient } from './guards.js';
import { FlowRef, sessionFromView, SessionRef, UserRef } from './types.js';

// ---------- authState and config ----------

export const AuthStateRef = builder.objectRef<AuthState>('AuthState').implement({
  fields: (t) => ({
    isAuthenticated: t.exposeBoolean('isAuthenticated'),
    user: t.field({ type: UserRef, nullable: true, resolve: (s) => s.user }),
    session: t.field({ type: SessionRef, nullable: true, resolve: (s) => (s.session ? sessionFromView(s.session) : null) }),
    flows: t.field({ type: [FlowRef], resolve: (s) => s.flows }),
    mfaEnrollmentDeadline: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'For a privileged user without a second factor: when logins become limited to setting one up.',
      resolve: (s) => s.mfaEnrollmentDeadline,
    }),
  }),
});

builder.queryField('authState', (t) => t.field({ type: AuthStateRef, resolve: (_root, _args, ctx) => authStateOf(ctx.deps, ctx.caller) }));

builder.queryField('me', (t) =>
  t.field({ type: UserRef, nullable: true, resolve: (_root, _args, ctx) => (ctx.caller.kind === 'session' && !ctx.caller.session.enrollOnly ? ctx.caller.user : null) }),
);

const MfaConfigRef = builder.objectRef<Config>('MfaConfig').implement({
  fields: (t) => ({
    supportedTypes: t.field({ type: [AuthenticatorTypeEnum], resolve: (c) => c.mfaSupportedTypes.map((s) => s.toUpperCase() as 'TOTP' | 'WEBAUTHN' | 'RECOVERY_CODES' | 'EMAIL') }),
    passkeyLoginEnabled: t.exposeBoolean('passkeyLoginEnabled'),
    passkeySignupEnabled: t.exposeBoolean('passkeySignupEnabled'),
    trustEnabled: t.boolean({ description: '"Trust this device" is offered after an MFA step (flow MFA_TRUST).', resolve: (c) => c.mfaTrust.enabled }),
    trustAgeSeconds: t.int({ description: 'How long a device trust lasts.', resolve: (c) => c.mfaTrust.ageSeconds }),
  }),
});
const SessionsConfigRef = builder.objectRef<Config>('SessionsConfig').implement({
  fields: (t) => ({ trackActivity: t.exposeBoolean('trackSessionActivity') }),
});
const EmailVerificationEnum = builder.enumType('EmailVerification', { values: ['NONE', 'OPTIONAL', 'MANDATORY'] as const });
const AccountConfigRef = builder.objectRef<Config>('AccountConfig').implement({
  fields: (t) => ({
    emailVerification: t.field({
      type: EmailVerificationEnum, description: 'ACCOUNT_EMAIL_VERIFICATION: whether a code is mailed, and whether an unverified account may sign in.',
      resolve: (c) => c.emailVerification.toUpperCase() as 'NONE' | 'OPTIONAL' | 'MANDATORY',
    }),
    passwordResetByCodeEnabled: t.boolean({ description: 'requestPasswordReset mails a code (and a link).', resolve: () => true }),
  }),
});
const ConfigRef = builder.objectRef<Config>('Config').implement({
  fields: (t) => ({
    account: t.field({ type: AccountConfigRef, resolve: (c) => c }),
    mfa: t.field({ type: MfaConfigRef, resolve: (c) => c }),
    sessions: t.field({ type: SessionsConfigRef, resolve: (c) => c }),
  }),
});
builder.queryField('config', (t) => t.field({ type: ConfigRef, resolve: (_root, _args, ctx) => ctx.deps.config }));

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
      description: 'For app clients (X-Tessera-Client: app; then Authorization: Bearer). Null for browsers, which get the token as an HttpOnly cookie.',
      resolve: (p) => p.sessionToken,
    }),
    authState: t.field({ type: AuthStateRef, resolve: async (p) => authStateOf(p.ctx.deps, await callerOf(p.ctx)) }),
    deviceToken: t.string({
      nullable: true,
      description: 'For app clients: the device token to send as X-Tessera-Device on every request (browsers keep it as an HttpOnly cookie).',
      resolve: (p) => forAppClient(p.ctx, p.ctx.device.token),
    }),
  }),
});

const credentialsSchema = z.object({ email: emailSchema, password: passwordInputSchema });
const CredentialsInput = builder.inputType('CredentialsInput', {
  fields: (t) => ({ email: t.string({ required: true }), password: t.string({ required: true }) }),
});

builder.mutationField('signup', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    args: { input: t.arg({ type: CredentialsInput, required: true }) },
    resolve: async (_root, args, ctx, info) => adoptToken(ctx, await signup(ctx.deps, ctx.caller, parseInput(credentialsSchema, args.input), ctx.request), info),
  }),
);

builder.mutationField('login', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    args: { input: t.arg({ type: CredentialsInput, required: true }) },
    resolve: async (_root, args, ctx, info) => {
      const result = await passwordLogin(ctx.deps, parseInput(credentialsSchema, args.input), ctx.request);
      return adoptToken(ctx, result.kind === 'session' ? result.session : result.pending, info);
    },
  }),
);

const LogoutPayloadRef = builder.objectRef<{ ok: boolean }>('LogoutPayload').implement({ fields: (t) => ({ ok: t.exposeBoolean('ok') }) });

builder.mutationField('logout', (t) =>
  t.field({
    errors: {},
    type: LogoutPayloadRef,
    resolve: async (_root, _args, ctx) => {
      await logout(ctx.deps, ctx.caller, ctx.request);
      clearSessionCookie(ctx);
      return { ok: true };
    },
  }),
);

// ---------- reauthentication and account changes ----------

const ReauthenticateInput = builder.inputType('ReauthenticateInput', { fields: (t) => ({ password: t.string({ required: true }) }) });

builder.mutationField('reauthenticate', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    args: { input: t.arg({ type: ReauthenticateInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { password } = parseInput(z.object({ password: passwordInputSchema }), args.input);
      return adoptToken(ctx, await reauthenticateWithPassword(ctx.deps, ctx.caller, password, ctx.request));
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
      const { endedSessions } = await changePassword(ctx.deps, ctx.caller, input, ctx.request);
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
    resolve: async (_root, args, ctx) => changeEmail(ctx.deps, ctx.caller, parseInput(z.object({ email: emailSchema }), args.input).email, ctx.request),
  }),
);

builder.mutationField('deleteAccount', (t) =>
  t.field({
    errors: {},
    type: LogoutPayloadRef,
    resolve: async (_root, _args, ctx) => {
      await deleteAccount(ctx.deps, ctx.caller, ctx.request);
      clearSessionCookie(ctx);
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
      const { revokedIds, endedCurrent } = await revokeSessions(ctx.deps, ctx.caller, ids, ctx.request);
      if (endedCurrent) clearSessionCookie(ctx);
      return { revokedIds };
    },
  }),
);
