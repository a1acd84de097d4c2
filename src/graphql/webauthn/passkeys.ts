// Passkeys without a password: login (MFA_LOGIN_WEBAUTHN) and signup (MFA_SIGNUP_WEBAUTHN), both anonymous ceremonies
// carried by a ceremony token (application/passkeyLogin.ts, application/passkeySignup.ts).
import { loginWithPasskey } from '../../application/passkeyLogin.js';
import { beginPasskeySignup, completePasskeySignup } from '../../application/passkeySignup.js';
import { authStateOf } from '../../application/authState.js';
import { AuthPayloadRef, AuthStateRef } from '../auth.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { adoptToken } from '../guards.js';
import { clearCeremonyCookie, readCeremonyCookie, setCeremonyCookie } from './ceremonyCookie.js';

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
    resolve: async (_root, args, ctx) => {
      const session = await endingCeremony(ctx, () => loginWithPasskey(ctx.deps, args.input, readCeremonyCookie(ctx), ctx.request));
      return adoptToken(ctx, session);
    },
  }),
);

const BeginPasskeySignupInput = builder.inputType('BeginPasskeySignupInput', { fields: (t) => ({ email: t.string({ required: true }) }) });

const PasskeySignupOptionsRef = builder.objectRef<{ creationOptions: unknown; ceremonyToken: string }>('PasskeySignupOptions').implement({
  fields: (t) => ({
    creationOptions: t.field({ type: 'JSON', description: 'PublicKeyCredentialCreationOptionsJSON (resident key, user verification required).', resolve: (p) => p.creationOptions }),
    ceremonyToken: t.string({ description: 'Binds the ceremony to this client. Browsers also get it as an HttpOnly cookie; app clients pass it to completePasskeySignup.', resolve: (p) => p.ceremonyToken }),
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
      setCeremonyCookie(ctx, options.ceremonyToken);
      return options;
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

const PasskeySignupPayloadRef = builder.objectRef<{ sessionToken: string; recoveryCodes: string[]; ctx: GraphQLContext }>('PasskeySignupPayload').implement({
  fields: (t) => ({
    sessionToken: t.string({ description: 'For app clients (Authorization: Bearer). Browsers get the same token as an HttpOnly cookie.', resolve: (p) => p.sessionToken }),
    recoveryCodes: t.stringList({ description: 'Generated with the passkey and shown here once.', resolve: (p) => p.recoveryCodes }),
    authState: t.field({ type: AuthStateRef, resolve: (p) => authStateOf(p.ctx.deps, p.ctx.caller) }),
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
