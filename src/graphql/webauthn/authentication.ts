// A key's assertion: the ceremony's options (MFA step, step-up, passkey login) and the MFA step or step-up itself
// (application/webauthnAuthentication.ts). Passkey login's completion is in passkeys.ts.
import { parseInput } from '../../application/validation.js';
import {
  beginWebAuthnAuthentication,
  beginWebAuthnAuthenticationInputSchema,
  completeMfaStepWithWebAuthn,
  reauthenticateWithWebAuthn,
} from '../../application/webauthnAuthentication.js';
import { AuthPayloadRef } from '../auth.js';
import { builder } from '../builder.js';
import { adoptToken } from '../guards.js';
import { handOverCeremonyToken } from './ceremonyCookie.js';

const WebAuthnPurposeEnum = builder.enumType('WebAuthnPurpose', { values: ['MFA', 'PASSKEY_LOGIN', 'REAUTHENTICATE'] as const });

const BeginAuthenticationInput = builder.inputType('BeginWebAuthnAuthenticationInput', {
  fields: (t) => ({ purpose: t.field({ type: WebAuthnPurposeEnum, required: true }) }),
});

const RequestOptionsRef = builder.objectRef<{ requestOptions: unknown; ceremonyToken: string | null }>('WebAuthnRequestOptions').implement({
  fields: (t) => ({
    requestOptions: t.field({ type: 'JSON', description: 'PublicKeyCredentialRequestOptionsJSON, for navigator.credentials.get.', resolve: (p) => p.requestOptions }),
    ceremonyToken: t.string({
      nullable: true,
      description: 'PASSKEY_LOGIN only: binds the ceremony to this client. App clients (X-Tessera-Client: app) get it here and pass it to loginWithPasskey; null for browsers, which get it as an HttpOnly cookie.',
      resolve: (p) => p.ceremonyToken,
    }),
  }),
});

builder.mutationField('beginWebAuthnAuthentication', (t) =>
  t.field({
    errors: {},
    type: RequestOptionsRef,
    args: { input: t.arg({ type: BeginAuthenticationInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const options = await beginWebAuthnAuthentication(ctx.deps, ctx.caller, parseInput(beginWebAuthnAuthenticationInputSchema, args.input), ctx.request);
      return { ...options, ceremonyToken: options.ceremonyToken ? handOverCeremonyToken(ctx, options.ceremonyToken) : null };
    },
  }),
);

const AuthenticateInput = builder.inputType('AuthenticateWebAuthnInput', {
  fields: (t) => ({ credential: t.field({ type: 'JSON', required: true, description: 'AuthenticationResponseJSON (credential.toJSON()).' }) }),
});

builder.mutationField('authenticateWebAuthn', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'A security key or passkey as the second factor of a pending login (MFA), or to reauthenticate a session (REAUTHENTICATE).',
    args: { input: t.arg({ type: AuthenticateInput, required: true }) },
    resolve: async (_root, args, ctx, info) => {
      // The input is parsed by the use case, after it has drawn an attempt: a malformed assertion still counts.
      const issued = ctx.caller.kind === 'pending'
        ? await completeMfaStepWithWebAuthn(ctx.deps, ctx.caller, args.input, ctx.request)
        : await reauthenticateWithWebAuthn(ctx.deps, ctx.caller, args.input, ctx.request);
      return adoptToken(ctx, issued, info);
    },
  }),
);
