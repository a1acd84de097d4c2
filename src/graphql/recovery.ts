// Account recovery over GraphQL (issue 17): password reset by code or link, email verification, "this wasn't me", and
// the owner's confirmation of a suspended factor. Each resolver parses, calls the use case and maps the result.
import { z } from 'zod';
import { confirmSuspendedFactor, reportCompromise } from '../application/compromise.js';
import { resendEmailVerification, verifyEmail } from '../application/emailVerification.js';
import { requestPasswordReset, resetPassword } from '../application/passwordReset.js';
import { idSchema, parseInput } from '../application/validation.js';
import { AuthPayloadRef } from './auth.js';
import { builder } from './builder.js';
import { adoptToken, clearSessionCookie } from './guards.js';
import { UserRef } from './types.js';

const OkPayloadRef = builder.objectRef<{ ok: boolean }>('RecoveryOkPayload').implement({ fields: (t) => ({ ok: t.exposeBoolean('ok') }) });

const RequestPasswordResetInput = builder.inputType('RequestPasswordResetInput', { fields: (t) => ({ email: t.string({ required: true }) }) });

builder.mutationField('requestPasswordReset', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'Mails a reset code and link if the address has an account; the answer is the same PASSWORD_RESET_BY_CODE flow either way.',
    args: { input: t.arg({ type: RequestPasswordResetInput, required: true }) },
    resolve: async (_root, args, ctx) => adoptToken(ctx, await requestPasswordReset(ctx.deps, { email: args.input.email }, ctx.request)),
  }),
);

const ResetPasswordInput = builder.inputType('ResetPasswordInput', {
  fields: (t) => ({
    email: t.string({ required: false, description: 'With `code`: the address the code was sent to (or leave it out inside a PASSWORD_RESET_BY_CODE flow).' }),
    code: t.string({ required: false, description: 'The code from the mail.' }),
    key: t.string({ required: false, description: 'The key from the mail\'s link, instead of a code.' }),
    newPassword: t.string({ required: true }),
  }),
});

builder.mutationField('resetPassword', (t) =>
  t.field({
    errors: {},
    type: OkPayloadRef,
    description: 'Sets a new password with the emailed code or link key. Ends every session; signs nobody in (the next login asks for the second factor).',
    args: { input: t.arg({ type: ResetPasswordInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const i = args.input;
      await resetPassword(ctx.deps, ctx.caller, { email: i.email ?? undefined, code: i.code ?? undefined, key: i.key ?? undefined, newPassword: i.newPassword }, ctx.request);
      clearSessionCookie(ctx);
      return { ok: true };
    },
  }),
);

const VerifyEmailInput = builder.inputType('VerifyEmailInput', { fields: (t) => ({ code: t.string({ required: true }) }) });

builder.mutationField('verifyEmail', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'The code of the VERIFY_EMAIL flow (after signup or login under mandatory verification), or of the signed-in user\'s pending email change.',
    args: { input: t.arg({ type: VerifyEmailInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { session } = await verifyEmail(ctx.deps, ctx.caller, { code: args.input.code }, ctx.request);
      if (session) return adoptToken(ctx, session);
      if (ctx.caller.kind === 'flow') clearSessionCookie(ctx);
      return { sessionToken: null, ctx };
    },
  }),
);

builder.mutationField('resendEmailVerification', (t) =>
  t.field({
    errors: {},
    type: OkPayloadRef,
    description: 'A new verification code, for the VERIFY_EMAIL flow or the signed-in user\'s unverified address or pending change.',
    resolve: async (_root, _args, ctx) => {
      await resendEmailVerification(ctx.deps, ctx.caller, ctx.request);
      return { ok: true };
    },
  }),
);

const ReportCompromiseInput = builder.inputType('ReportCompromiseInput', { fields: (t) => ({ key: t.string({ required: true }) }) });
const ReportCompromisePayloadRef = builder.objectRef<{ suspendedFactorCount: number; emailRestored: boolean; assistedRecovery: boolean }>('ReportCompromisePayload').implement({
  fields: (t) => ({
    suspendedFactorCount: t.exposeInt('suspendedFactorCount', { description: 'Factors the notice named as added, now suspended.' }),
    emailRestored: t.exposeBoolean('emailRestored', { description: 'The address the notice named as replaced is the account\'s again.' }),
    assistedRecovery: t.exposeBoolean('assistedRecovery', { description: 'The suspended factor was the only second factor: an administrator must restore one.' }),
  }),
});

builder.mutationField('reportCompromise', (t) =>
  t.field({
    errors: {},
    type: ReportCompromisePayloadRef,
    description: '"This wasn\'t me": the key from a security notice. Ends every session, requires a password reset, undoes the change where it can.',
    args: { input: t.arg({ type: ReportCompromiseInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const report = await reportCompromise(ctx.deps, { key: args.input.key }, ctx.request);
      if (ctx.caller.kind === 'session' && ctx.caller.user.id === report.userId) clearSessionCookie(ctx);
      return { suspendedFactorCount: report.suspendedFactors, emailRestored: report.emailRestored, assistedRecovery: report.assistedRecovery };
    },
  }),
);

const SuspendableFactorEnum = builder.enumType('SuspendableFactor', { values: ['TOTP', 'WEBAUTHN', 'RECOVERY_CODES'] as const });
const ConfirmSuspendedFactorInput = builder.inputType('ConfirmSuspendedFactorInput', {
  fields: (t) => ({ type: t.field({ type: SuspendableFactorEnum, required: true }), id: t.id({ required: false, description: 'The key\'s id (WEBAUTHN).' }) }),
});

builder.mutationField('confirmSuspendedFactor', (t) =>
  t.field({
    errors: {},
    type: UserRef,
    description: 'The owner, signed in with another factor (AAL2, recently), confirms a factor "this wasn\'t me" suspended as their own.',
    args: { input: t.arg({ type: ConfirmSuspendedFactorInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const type = args.input.type;
      const id = type === 'WEBAUTHN' ? parseInput(z.object({ id: idSchema }), { id: args.input.id ?? '' }).id : null;
      await confirmSuspendedFactor(ctx.deps, ctx.caller, { factor: type.toLowerCase() as 'totp' | 'webauthn' | 'recovery_codes', authenticatorId: id }, ctx.request);
      return (ctx.caller as Extract<typeof ctx.caller, { kind: 'session' }>).user;
    },
  }),
);
