// Passkeys without a password: login (MFA_LOGIN_WEBAUTHN) and signup (MFA_SIGNUP_WEBAUTHN), both anonymous ceremonies
// carried by a ceremony token (application/passkeyLogin.ts, application/passkeySignup.ts).
import { loginWithPasskey } from '../../application/passkeyLogin.js';
import { beginPasskeySignup, completePasskeySignup } from '../../application/passkeySignup.js';
import { authStateOf } from '../../application/authState.js';
import { AuthPayloadRef, AuthStateRef } from '../auth.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { adoptToken, callerOf } from '../guards.js';
import { clearCeremonyCookie, handOverCeremonyToken, readCeremonyCookie } from './ceremonyCookie.js';

const LoginWithPasskeyInput = builder.inputType('LoginWithPasskeyInput', {
  fields: (t) => ({
    credential: t.field({ type: 'JSON', required: true, description: 'AuthenticationResponseJSON of a discoverable credential.' }),
    ceremonyToken: t.string({ required: false, description: 'From beginWebAuthnAuthentication(PASSKEY_LOGIN); browsers may rely on the cookie instead.' }),
  }),
});

/** The ceremony is over once its completion has been tried: its cookie goes whatever the answer. */
async function endingCeremony<T>(ctx: GraphQLContext, complete: () => Promise<T>): Promise<T> {
  try {
    return await complete();
  } finally {
    clearCeremonyCookie(ctx);
  }
}

builder.mutationField('loginWithPasskey', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'Passwordless login (MFA_LOGIN_WEBAUTHN): a user-verified passkey starts an AAL2 session.',
    args: { input: t.arg({ type: LoginWithPasskeyInput, required: true }) },
    resolve: async (_root, args, ctx, info) => {
      const session = await endingCeremony(ctx, () => loginWithPasskey(ctx.deps, args.input, readCeremonyCookie(ctx), ctx.request));
      return adoptToken(ctx, session, info);
    },
  }),
);

const BeginPasskeySignupInput = builder.inputType('BeginPasskeySignupInput', { fields: (t) => ({ email: t.string({ required: true }) }) });

const PasskeySignupOptionsRef = builder.objectRef<{ creationOptions: unknown; ceremonyToken: string | null }>('PasskeySignupOptions').implement({
  fields: (t) => ({
    creationOptions: t.field({ type: 'JSON', description: 'PublicKeyCredentialCreationOptionsJSON (resident key, user verification required).', resolve: (p) => p.creationOptions }),
    ceremonyToken: t.string({ nullable: true, description: 'Binds the ceremony to this client. App clients (X-Tessera-Client: app) get it here and pass it to completePasskeySignup; null for browsers, which get it as an HttpOnly cookie.', resolve: (p) => p.ceremonyToken }),
  }),
});

builder.mutationField('beginPasskeySignup', (t) =>
  t.field({
    errors: {},
    type: PasskeySignupOptionsRef,
    description: 'Passkey signup (MFA_SIGNUP_WEBAUTHN, behind PASSKEY_SIGNUP_ENABLED): an account whose only credential is a passkey.',
    args: { input: t.arg({ type: BeginPasskeySignupInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const options = await beginPasskeySignup(ctx.deps, ctx.caller, args.input, ctx.request);
      return { ...options, ceremonyToken: handOverCeremonyToken(ctx, options.ceremonyToken) };
    },
  }),
);

const CompletePasskeySignupInput = builder.inputType('CompletePasskeySignupInput', {
  fields: (t) => ({
    credential: t.field({ type: 'JSON', required: true, description: 'RegistrationResponseJSON (credential.toJSON()).' }),
    ceremonyToken: t.string({ required: false, description: 'From beginPasskeySignup; browsers may rely on the cookie instead.' }),
    name: t.string({ required: false, description: 'The passkey\'s name; "Passkey" when omitted.' }),
  }),
});

const PasskeySignupPayloadRef = builder.objectRef<{ sessionToken: string | null; recoveryCodes: string[]; ctx: GraphQLContext }>('PasskeySignupPayload').implement({
  fields: (t) => ({
    sessionToken: t.string({ nullable: true, description: 'For app clients (X-Tessera-Client: app; then Authorization: Bearer). Null for browsers, which get the token as an HttpOnly cookie.', resolve: (p) => p.sessionToken }),
    recoveryCodes: t.stringList({ description: 'Generated with the passkey and shown here once.', resolve: (p) => p.recoveryCodes }),
    authState: t.field({ type: AuthStateRef, resolve: async (p) => authStateOf(p.ctx.deps, await callerOf(p.ctx)) }),
  }),
});

builder.mutationField('completePasskeySignup', (t) =>
  t.field({
    errors: {},
    type: PasskeySignupPayloadRef,
    description: 'Verifies the new passkey (user verification required) and creates the account with it, recovery codes and an AAL2 session.',
    args: { input: t.arg({ type: CompletePasskeySignupInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const signup = await endingCeremony(ctx, () => completePasskeySignup(ctx.deps, ctx.caller, args.input, readCeremonyCookie(ctx), ctx.request));
      return { ...(await adoptToken(ctx, signup.session)), recoveryCodes: signup.recoveryCodes };
    },
  }),
);
