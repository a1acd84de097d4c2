// Registering a security key or passkey on a signed-in account (application/webauthnRegistration.ts).
import {
  beginWebAuthnRegistration,
  beginWebAuthnRegistrationInputSchema,
  registerWebAuthn,
  registerWebAuthnInputSchema,
} from '../../application/webauthnRegistration.js';
import { parseInput } from '../../application/validation.js';
import { AuthenticatorRef, authenticatorsOf, type AuthenticatorShape } from '../authenticators.js';
import { builder } from '../builder.js';
import { adoptToken } from '../guards.js';

const BeginRegistrationInput = builder.inputType('BeginWebAuthnRegistrationInput', {
  fields: (t) => ({ passwordless: t.boolean({ required: true, description: 'A passkey (resident key, user verification required) rather than a second factor.' }) }),
});

const CreationOptionsRef = builder.objectRef<{ creationOptions: unknown }>('WebAuthnCreationOptions').implement({
  fields: (t) => ({ creationOptions: t.field({ type: 'JSON', description: 'PublicKeyCredentialCreationOptionsJSON, for navigator.credentials.create.', resolve: (p) => p.creationOptions }) }),
});

builder.mutationField('beginWebAuthnRegistration', (t) =>
  t.field({
    errors: {},
    type: CreationOptionsRef,
    args: { input: t.arg({ type: BeginRegistrationInput, required: true }) },
    resolve: async (_root, args, ctx) => ({
      creationOptions: await beginWebAuthnRegistration(ctx.deps, ctx.caller, parseInput(beginWebAuthnRegistrationInputSchema, args.input)),
    }),
  }),
);

const RegisterInput = builder.inputType('RegisterWebAuthnInput', {
  fields: (t) => ({ name: t.string({ required: true }), credential: t.field({ type: 'JSON', required: true, description: 'RegistrationResponseJSON (credential.toJSON()).' }) }),
});

const RegisterPayloadRef = builder
  .objectRef<{ authenticator: AuthenticatorShape; recoveryCodes: string[] | null; sessionToken: string | null }>('RegisterWebAuthnPayload')
  .implement({
    fields: (t) => ({
      authenticator: t.field({ type: AuthenticatorRef, resolve: (p) => p.authenticator }),
      recoveryCodes: t.stringList({ nullable: true, description: 'Generated with the first factor and shown here once.', resolve: (p) => p.recoveryCodes }),
      sessionToken: t.string({ nullable: true, description: 'The session was rotated to AAL2 (it just proved the key): its new token, for app clients (X-Tessera-Client: app); null for browsers, which get it as an HttpOnly cookie.', resolve: (p) => p.sessionToken }),
    }),
  });

builder.mutationField('registerWebAuthn', (t) =>
  t.field({
    errors: {},
    type: RegisterPayloadRef,
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(registerWebAuthnInputSchema, args.input);
      const registration = await registerWebAuthn(ctx.deps, ctx.caller, input, ctx.request);
      const { sessionToken } = await adoptToken(ctx, registration.session);
      const authenticator = authenticatorsOf(registration.authenticators).find((a) => a.kind === 'WEBAUTHN' && a.credential.authenticatorId === registration.authenticatorId)!;
      return { authenticator, recoveryCodes: registration.recoveryCodes, sessionToken };
    },
  }),
);
