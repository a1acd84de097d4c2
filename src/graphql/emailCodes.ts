// Email one-time codes over GraphQL (issue 18): enrolment, removal, and asking for a code during the MFA step (the
// code is then given to authenticateMfa). Parse, call, map.
import { activateEmailCode, beginEmailCodeEnrollment, removeEmailCode, requestEmailCode, type IssuedEmailCode } from '../application/emailCodes.js';
import { AuthenticatorRef, authenticatorsOf } from './authenticators.js';
import { builder } from './builder.js';

const EmailCodeSentRef = builder.objectRef<IssuedEmailCode>('EmailCodeSent').implement({
  description: "A code went to the account's email address.",
  fields: (t) => ({
    expiresAt: t.field({ type: 'DateTime', resolve: (s) => s.expiresAt }),
    resendAfterSeconds: t.exposeInt('resendAfterSeconds', { description: 'Another code can be asked for after this many seconds.' }),
  }),
});

builder.mutationField('beginEmailCodeEnrollment', (t) =>
  t.field({
    errors: {},
    type: EmailCodeSentRef,
    description: "Sends a code to the account's address; activateEmailCode with it (from this session) adds email codes as a factor.",
    resolve: (_root, _args, ctx) => beginEmailCodeEnrollment(ctx.deps, ctx.caller, ctx.request),
  }),
);

const ActivateEmailCodeInput = builder.inputType('ActivateEmailCodeInput', { fields: (t) => ({ code: t.string({ required: true }) }) });
const ActivateEmailCodePayloadRef = builder.objectRef<{ authenticators: ReturnType<typeof authenticatorsOf> }>('ActivateEmailCodePayload').implement({
  fields: (t) => ({ authenticators: t.field({ type: [AuthenticatorRef], resolve: (p) => p.authenticators }) }),
});

builder.mutationField('activateEmailCode', (t) =>
  t.field({
    errors: {},
    type: ActivateEmailCodePayloadRef,
    description: 'Confirms the address with the code beginEmailCodeEnrollment sent. The session keeps its assurance level: an email code never gives AAL2.',
    args: { input: t.arg({ type: ActivateEmailCodeInput, required: true }) },
    resolve: async (_root, args, ctx) => ({ authenticators: authenticatorsOf(await activateEmailCode(ctx.deps, ctx.caller, args.input, ctx.request)) }),
  }),
);

const RemoveEmailCodePayloadRef = builder.objectRef<{ authenticators: ReturnType<typeof authenticatorsOf> }>('RemoveEmailCodePayload').implement({
  fields: (t) => ({ authenticators: t.field({ type: [AuthenticatorRef], resolve: (p) => p.authenticators }) }),
});

builder.mutationField('removeEmailCode', (t) =>
  t.field({
    errors: {},
    type: RemoveEmailCodePayloadRef,
    description: 'Removes email codes as a factor (a sensitive change: recent authentication, AAL2 next to a strong factor).',
    resolve: async (_root, _args, ctx) => ({ authenticators: authenticatorsOf(await removeEmailCode(ctx.deps, ctx.caller, ctx.request)) }),
  }),
);

builder.mutationField('requestEmailCode', (t) =>
  t.field({
    errors: {},
    type: EmailCodeSentRef,
    description: 'During the MFA step of a login (flow MFA_AUTHENTICATE with type EMAIL): sends a code, which authenticateMfa then takes. Refused (FACTOR_NOT_ALLOWED) right after a password reset by email.',
    resolve: (_root, _args, ctx) => requestEmailCode(ctx.deps, ctx.caller, ctx.request),
  }),
);
