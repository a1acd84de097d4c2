// Renaming and removing the caller's keys (application/webauthnManagement.ts).
import { parseInput } from '../../application/validation.js';
import { removeWebAuthn, removeWebAuthnInputSchema, renameWebAuthn, renameWebAuthnInputSchema } from '../../application/webauthnManagement.js';
import { AuthenticatorRef, authenticatorsOf, type AuthenticatorShape } from '../authenticators.js';
import { builder } from '../builder.js';

const RenameInput = builder.inputType('RenameWebAuthnInput', { fields: (t) => ({ id: t.id({ required: true }), name: t.string({ required: true }) }) });

const RenamePayloadRef = builder.objectRef<{ authenticator: AuthenticatorShape }>('RenameWebAuthnPayload').implement({
  fields: (t) => ({ authenticator: t.field({ type: AuthenticatorRef, resolve: (p) => p.authenticator }) }),
});

builder.mutationField('renameWebAuthn', (t) =>
  t.field({
    errors: {},
    type: RenamePayloadRef,
    args: { input: t.arg({ type: RenameInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(renameWebAuthnInputSchema, args.input);
      const authenticators = await renameWebAuthn(ctx.deps, ctx.caller, input, ctx.request);
      return { authenticator: authenticatorsOf(authenticators).find((a) => a.kind === 'WEBAUTHN' && a.credential.authenticatorId === input.id)! };
    },
  }),
);

const RemoveInput = builder.inputType('RemoveWebAuthnInput', { fields: (t) => ({ ids: t.idList({ required: true }) }) });
const RemovePayloadRef = builder.objectRef<{ authenticators: AuthenticatorShape[] }>('RemoveWebAuthnPayload').implement({
  fields: (t) => ({ authenticators: t.field({ type: [AuthenticatorRef], description: 'The factors left.', resolve: (p) => p.authenticators }) }),
});

builder.mutationField('removeWebAuthn', (t) =>
  t.field({
    errors: {},
    type: RemovePayloadRef,
    args: { input: t.arg({ type: RemoveInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(removeWebAuthnInputSchema, args.input);
      return { authenticators: authenticatorsOf(await removeWebAuthn(ctx.deps, ctx.caller, input, ctx.request)) };
    },
  }),
);
