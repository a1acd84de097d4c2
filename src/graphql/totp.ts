// TOTP and recovery codes over GraphQL: setup, activation, the MFA step of login, step-up, removal and the codes.
// The code mutations hand their raw input to the use case: it draws an attempt before parsing, so malformed guesses
// count against the budget too.
import { completeMfaStepWithCode, reauthenticateWithCode } from '../application/mfaStep.js';
import { regenerateRecoveryCodes, unusedRecoveryCodes } from '../application/recoveryCodes.js';
import { activateTotp, deactivateTotp, setupTotp, type TotpSetup } from '../application/totpEnrollment.js';
import { AuthPayloadRef } from './auth.js';
import { AuthenticatorRef, authenticatorsOf, type AuthenticatorShape } from './authenticators.js';
import { builder } from './builder.js';
import { adoptToken } from './guards.js';

const MfaCodeInput = builder.inputType('MfaCodeInput', {
  description: 'A 6-digit TOTP code or a recovery code (any case, with or without dashes and spaces).',
  fields: (t) => ({ code: t.string({ required: true }) }),
});

// ---------- setup and activation ----------

const TotpSetupRef = builder.objectRef<TotpSetup>('TotpSetup').implement({
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
    resolve: (_root, _args, ctx) => setupTotp(ctx.deps, ctx.caller, ctx.request),
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
      description: 'The session was rotated to AAL2 (it just proved a second factor): its new token, for app clients (X-Tessera-Client: app); null for browsers.',
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
      const activation = await activateTotp(ctx.deps, ctx.caller, args.input, ctx.request);
      const { sessionToken } = await adoptToken(ctx, activation.session);
      const authenticator = authenticatorsOf(activation.authenticators).find((a) => a.kind === 'TOTP')!;
      return { authenticator, recoveryCodes: activation.recoveryCodes, sessionToken };
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
    resolve: async (_root, args, ctx, info) => adoptToken(ctx, await completeMfaStepWithCode(ctx.deps, ctx.caller, args.input, ctx.request), info),
  }),
);

builder.mutationField('mfaReauthenticate', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'Reauthenticates the session with a TOTP or recovery code: a new token, and AAL2 from now on.',
    args: { input: t.arg({ type: MfaCodeInput, required: true }) },
    resolve: async (_root, args, ctx) => adoptToken(ctx, await reauthenticateWithCode(ctx.deps, ctx.caller, args.input, ctx.request)),
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
    resolve: async (_root, _args, ctx) => ({ authenticators: authenticatorsOf(await deactivateTotp(ctx.deps, ctx.caller, ctx.request)) }),
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
    resolve: async (_root, _args, ctx) => ({ codes: await regenerateRecoveryCodes(ctx.deps, ctx.caller, ctx.request) }),
  }),
);

builder.queryField('recoveryCodes', (t) =>
  t.field({
    errors: {},
    type: RecoveryCodesPayloadRef,
    description: 'The unused recovery codes, for a session reauthenticated within the last few minutes.',
    resolve: async (_root, _args, ctx) => ({ codes: await unusedRecoveryCodes(ctx.deps, ctx.caller) }),
  }),
);
