// TOTP and recovery codes over GraphQL: setup, activation, the MFA step of login, step-up, removal and the codes.
// Every mutation that checks a code draws one attempt from the account's budget (the same as passwords) before
// looking at the input, so malformed guesses count too; a success gives the attempt back.
import { z } from 'zod';
import { DomainError } from '../domain/shared/errors.js';
import { assertPendingFlowOpen, finishMfaStepIn } from '../domain/login/handle.js';
import { reauthenticateSession } from '../domain/session/handle.js';
import { activateTotp, deactivateTotp, enrollTotp, verifyMfaCode } from '../domain/authenticators/handleTotp.js';
import { regenerateRecoveryCodes, unusedRecoveryCodes } from '../domain/authenticators/handleRecoveryCodes.js';
import { loadAuthenticators } from '../domain/login/handle.js';
import { accountKeyFor } from '../security/attempts.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { AuthPayloadRef, adoptToken } from './auth.js';
import { AuthenticatorRef, listAuthenticators, type AuthenticatorShape } from './authenticators.js';
import { requestInfo, requireMayAddFactor, requirePendingLogin, requireSensitiveChangeAllowed, requireSession } from './guards.js';
import { codeSchema, parseInput } from './validation.js';

const codeInputSchema = z.object({ code: codeSchema });

const MfaCodeInput = builder.inputType('MfaCodeInput', {
  description: 'A 6-digit TOTP code or a recovery code (any case, with or without dashes and spaces).',
  fields: (t) => ({ code: t.string({ required: true }) }),
});

/** One attempt from the account's budget, then the input check: a malformed code is still a counted guess. */
async function consumeAttemptThenParse(ctx: GraphQLContext, userId: string, input: unknown): Promise<string> {
  await ctx.app.attempts.consume(accountKeyFor(userId, ''));
  return parseInput(codeInputSchema, input).code;
}

// ---------- setup and activation ----------

const TotpSetupRef = builder.objectRef<{ secret: string; totpUrl: string; qrCodeSvg: string }>('TotpSetup').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'Base32, for typing into an authenticator app.' }),
    totpUrl: t.exposeString('totpUrl'),
    qrCodeSvg: t.exposeString('qrCodeSvg'),
  }),
});

builder.mutationField('setupTotp', (t) =>
  t.field({
    errors: {},
    type: TotpSetupRef,
    description: 'Starts TOTP setup: a new secret, valid for 10 minutes until activateTotp confirms it.',
    resolve: async (_root, _args, ctx) => {
            const auth = await requireMayAddFactor(ctx);
      const { state } = await loadAuthenticators(ctx.app, auth.user.id);
      if (state.totp.status === 'active') throw new DomainError('TOTP_ALREADY_ACTIVE');
      return enrollTotp(ctx.app, { userId: auth.user.id, email: auth.user.email }, requestInfo(ctx));
    },
  }),
);

interface ActivateTotpShape {
  authenticator: AuthenticatorShape;
  recoveryCodes: string[] | null;
  sessionToken: string | null;
}

const ActivateTotpPayloadRef = builder.objectRef<ActivateTotpShape>('ActivateTotpPayload').implement({
  fields: (t) => ({
    authenticator: t.field({ type: AuthenticatorRef, resolve: (p) => p.authenticator }),
    recoveryCodes: t.stringList({
      nullable: true,
      description: 'Generated with the first factor and shown here once (and later via recoveryCodes after reauthentication).',
      resolve: (p) => p.recoveryCodes,
    }),
    sessionToken: t.string({
      nullable: true,
      description: 'The session was rotated to AAL2 (it just proved a second factor): its new token, for app clients.',
      resolve: (p) => p.sessionToken,
    }),
  }),
});

builder.mutationField('activateTotp', (t) =>
  t.field({
    errors: {},
    type: ActivateTotpPayloadRef,
    args: { input: t.arg({ type: MfaCodeInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const auth = requireSession(ctx, { allowEnrollOnly: true });
      const code = await consumeAttemptThenParse(ctx, auth.user.id, args.input);
      const activation = await activateTotp(ctx.app, { userId: auth.user.id, sessionId: auth.session.id, code }, requestInfo(ctx));
      if (activation.sessionToken) await adoptToken(ctx, activation.sessionToken, ctx.app.config.sessionAbsoluteTimeoutSeconds);
      const authenticator = (await listAuthenticators(ctx.app, auth.user.id)).find((a) => a.kind === 'TOTP')!;
      return { authenticator, recoveryCodes: activation.recoveryCodes, sessionToken: activation.sessionToken };
    },
  }),
);

// ---------- the MFA step of login, and step-up ----------

builder.mutationField('authenticateMfa', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'The MFA_AUTHENTICATE step of a pending login: a TOTP code or a recovery code. Success starts an AAL2 session.',
    args: { input: t.arg({ type: MfaCodeInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const pending = requirePendingLogin(ctx);
      const request = requestInfo(ctx);
      const { flowId, userId } = pending.flow;
      await assertPendingFlowOpen(ctx.app, pending.flow, request);
      const code = await consumeAttemptThenParse(ctx, userId, args.input);
      const outcome = await verifyMfaCode(ctx.app, { userId, code, purpose: 'login' }, request, (tx, o) =>
        finishMfaStepIn(ctx.app, tx, flowId, o.method, o.accepted ? { accepted: true } : { accepted: false, reason: o.reason ?? 'INVALID_CODE' }, request),
      );
      // Errors are answered only now, after the transaction that recorded the failure has committed.
      if (!outcome.accepted) throw new DomainError(outcome.reason ?? 'INVALID_CODE');
      if (!outcome.result) throw new DomainError('FLOW_EXPIRED');
      return adoptToken(ctx, outcome.result.token, ctx.app.config.sessionAbsoluteTimeoutSeconds);
    },
  }),
);

builder.mutationField('mfaReauthenticate', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'Reauthenticates the session with a TOTP or recovery code: a new token, and AAL2 from now on.',
    args: { input: t.arg({ type: MfaCodeInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const auth = requireSession(ctx);
      const request = requestInfo(ctx);
      const code = await consumeAttemptThenParse(ctx, auth.user.id, args.input);
      const outcome = await verifyMfaCode(ctx.app, { userId: auth.user.id, code, purpose: 'reauthentication' }, request, (tx, o) =>
        o.accepted ? reauthenticateSession(ctx.app, auth.session.id, o.method, 2, request, tx) : Promise.resolve(null),
      );
      if (!outcome.accepted || !outcome.result) throw new DomainError(outcome.reason ?? 'INVALID_CODE');
      return adoptToken(ctx, outcome.result, ctx.app.config.sessionAbsoluteTimeoutSeconds);
    },
  }),
);

// ---------- removal and recovery codes ----------

const DeactivateTotpPayloadRef = builder.objectRef<{ authenticators: AuthenticatorShape[] }>('DeactivateTotpPayload').implement({
  fields: (t) => ({ authenticators: t.field({ type: [AuthenticatorRef], description: 'The factors left.', resolve: (p) => p.authenticators }) }),
});

builder.mutationField('deactivateTotp', (t) =>
  t.field({
    errors: {},
    type: DeactivateTotpPayloadRef,
    resolve: async (_root, _args, ctx) => {
      const auth = await requireSensitiveChangeAllowed(ctx);
      await deactivateTotp(ctx.app, auth.user.id, requestInfo(ctx));
      return { authenticators: await listAuthenticators(ctx.app, auth.user.id) };
    },
  }),
);

const RecoveryCodesPayloadRef = builder.objectRef<{ codes: string[] }>('RecoveryCodesPayload').implement({
  fields: (t) => ({ codes: t.exposeStringList('codes') }),
});

builder.mutationField('regenerateRecoveryCodes', (t) =>
  t.field({
    errors: {},
    type: RecoveryCodesPayloadRef,
    description: 'A new set of recovery codes; the old set stops working at the same moment.',
    resolve: async (_root, _args, ctx) => {
      const auth = await requireSensitiveChangeAllowed(ctx);
      return { codes: await regenerateRecoveryCodes(ctx.app, auth.user.id, requestInfo(ctx)) };
    },
  }),
);

builder.queryField('recoveryCodes', (t) =>
  t.field({
    errors: {},
    type: RecoveryCodesPayloadRef,
    description: 'The unused recovery codes, for a session reauthenticated within the last few minutes.',
    resolve: async (_root, _args, ctx) => {
      const auth = await requireSensitiveChangeAllowed(ctx);
      return { codes: await unusedRecoveryCodes(ctx.app, auth.user.id) };
    },
  }),
);
