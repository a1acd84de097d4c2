// WebAuthn over GraphQL: security keys and passkeys, the MFA step, step-up, passkey login and management.
// Every mutation that checks an assertion draws one attempt from the account's budget first (the same budget as
// passwords and codes); a success gives it back.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { authenticationResponseSchema, extractCredentialId, registrationResponseSchema } from '../crypto/webauthn.js';
import { DomainError } from '../domain/shared/errors.js';
import { assertFlowOpen, completePasskeyLoginIn, finishMfaStepIn } from '../domain/login/handle.js';
import { reauthenticateSession } from '../domain/session/handle.js';
import {
  beginWebAuthnAuthentication,
  beginWebAuthnRegistration,
  beginPasskeySignup,
  bindings,
  completePasskeySignup,
  findCredentialOwner,
  registerWebAuthn,
  removeWebAuthn,
  renameWebAuthn,
  verifyWebAuthnAssertion,
} from '../domain/authenticators/handleWebAuthn.js';
import { consumeChallenge, WEBAUTHN_CHALLENGE_TTL_SECONDS } from '../domain/authenticators/webauthnChallenges.js';
import { accountKeyFor } from '../security/attempts.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { AuthPayloadRef, AuthStateRef, adoptToken, authStateOf } from './auth.js';
import { AuthenticatorRef, listAuthenticators, type AuthenticatorShape } from './authenticators.js';
import { requestInfo, requireMayAddFactor, requirePendingLogin, requireSensitiveChangeAllowed, requireSession } from './guards.js';
import { emailSchema, idSchema, nameSchema, parseInput } from './validation.js';
import { findUserByEmail } from '../projections/users.js';

/** Carries an anonymous passkey ceremony between its two requests (browsers); app clients send ceremonyToken. */
export const webauthnCeremonyCookieName = 'tessera_webauthn';

const WebAuthnPurposeEnum = builder.enumType('WebAuthnPurpose', { values: ['MFA', 'PASSKEY_LOGIN', 'REAUTHENTICATE'] as const });

function readCeremonyCookie(ctx: GraphQLContext): string | undefined {
  const header = ctx.req?.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === webauthnCeremonyCookieName) return safeDecode(v.join('='));
  }
  return undefined;
}

// ---------- registration ----------

const BeginRegistrationInput = builder.inputType('BeginWebAuthnRegistrationInput', {
  fields: (t) => ({ passwordless: t.boolean({ required: true, description: 'A passkey (resident key, user verification required) rather than a second factor.' }) }),
});

const CreationOptionsRef = builder.objectRef<{ creationOptions: unknown }>('WebAuthnCreationOptions').implement({
  fields: (t) => ({ creationOptions: t.field({ type: 'JSON', description: 'PublicKeyCredentialCreationOptionsJSON, for navigator.credentials.create.', resolve: (p) => p.creationOptions }) }),
});

/** Adding a factor next to an existing one is a sensitive change; the first one only needs a session. */

builder.mutationField('beginWebAuthnRegistration', (t) =>
  t.field({
    errors: {},
    type: CreationOptionsRef,
    args: { input: t.arg({ type: BeginRegistrationInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { passwordless } = parseInput(z.object({ passwordless: z.boolean() }), args.input);
      const auth = await requireMayAddFactor(ctx);
      const creationOptions = await beginWebAuthnRegistration(ctx.app, { userId: auth.user.id, email: auth.user.email, sessionId: auth.session.id, passwordless });
      return { creationOptions };
    },
  }),
);

const RegisterInput = builder.inputType('RegisterWebAuthnInput', {
  fields: (t) => ({ name: t.string({ required: true }), credential: t.field({ type: 'JSON', required: true, description: 'RegistrationResponseJSON (credential.toJSON()).' }) }),
});

const RegisterPayloadRef = builder
  .objectRef<{ authenticator: AuthenticatorShape; recoveryCodes: string[] | null; sessionToken: string }>('RegisterWebAuthnPayload')
  .implement({
    fields: (t) => ({
      authenticator: t.field({ type: AuthenticatorRef, resolve: (p) => p.authenticator }),
      recoveryCodes: t.stringList({ nullable: true, description: 'Generated with the first factor and shown here once.', resolve: (p) => p.recoveryCodes }),
      sessionToken: t.string({ description: 'The session was rotated to AAL2 (it just proved the key): its new token.', resolve: (p) => p.sessionToken }),
    }),
  });

builder.mutationField('registerWebAuthn', (t) =>
  t.field({
    errors: {},
    type: RegisterPayloadRef,
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(z.object({ name: nameSchema, credential: registrationResponseSchema }), args.input);
      const auth = await requireMayAddFactor(ctx);
      const registration = await registerWebAuthn(ctx.app, { userId: auth.user.id, sessionId: auth.session.id, name: input.name, response: input.credential }, requestInfo(ctx));
      await adoptToken(ctx, registration.sessionToken, ctx.app.config.sessionAbsoluteTimeoutSeconds);
      const authenticator = (await listAuthenticators(ctx.app, auth.user.id)).find((a) => a.kind === 'WEBAUTHN' && a.credential.authenticatorId === registration.authenticatorId)!;
      return { authenticator, recoveryCodes: registration.recoveryCodes, sessionToken: registration.sessionToken };
    },
  }),
);

// ---------- authentication ----------

const BeginAuthenticationInput = builder.inputType('BeginWebAuthnAuthenticationInput', {
  fields: (t) => ({ purpose: t.field({ type: WebAuthnPurposeEnum, required: true }) }),
});

const RequestOptionsRef = builder.objectRef<{ requestOptions: unknown; ceremonyToken: string | null }>('WebAuthnRequestOptions').implement({
  fields: (t) => ({
    requestOptions: t.field({ type: 'JSON', description: 'PublicKeyCredentialRequestOptionsJSON, for navigator.credentials.get.', resolve: (p) => p.requestOptions }),
    ceremonyToken: t.string({
      nullable: true,
      description: 'PASSKEY_LOGIN only: binds the ceremony to this client. Browsers also get it as an HttpOnly cookie; app clients pass it to loginWithPasskey.',
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
      const { purpose } = parseInput(z.object({ purpose: z.enum(['MFA', 'PASSKEY_LOGIN', 'REAUTHENTICATE']) }), args.input);
      const { app } = ctx;
      if (purpose === 'MFA') {
        const pending = requirePendingLogin(ctx);
        await assertFlowOpen(app, pending.flow.flowId, requestInfo(ctx));
        const requestOptions = await beginWebAuthnAuthentication(app, { purpose: 'mfa', binding: bindings.flow(pending.flow.flowId), userId: pending.flow.userId });
        return { requestOptions, ceremonyToken: null };
      }
      if (purpose === 'REAUTHENTICATE') {
        const auth = requireSession(ctx);
        const requestOptions = await beginWebAuthnAuthentication(app, { purpose: 'reauthentication', binding: bindings.session(auth.session.id), userId: auth.user.id });
        return { requestOptions, ceremonyToken: null };
      }
      if (!app.config.passkeyLoginEnabled) throw new DomainError('FEATURE_DISABLED');
      const ceremonyToken = randomBytes(32).toString('base64url');
      const requestOptions = await beginWebAuthnAuthentication(app, { purpose: 'passkey_login', binding: bindings.ceremony(ceremonyToken), userId: null });
      ctx.cookies.push({ name: webauthnCeremonyCookieName, value: ceremonyToken, maxAgeSeconds: WEBAUTHN_CHALLENGE_TTL_SECONDS });
      return { requestOptions, ceremonyToken };
    },
  }),
);

const AuthenticateInput = builder.inputType('AuthenticateWebAuthnInput', {
  fields: (t) => ({ credential: t.field({ type: 'JSON', required: true, description: 'AuthenticationResponseJSON (credential.toJSON()).' }) }),
});
const assertionInputSchema = z.object({ credential: authenticationResponseSchema });

builder.mutationField('authenticateWebAuthn', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'A security key or passkey as the second factor of a pending login (MFA), or to reauthenticate a session (REAUTHENTICATE).',
    args: { input: t.arg({ type: AuthenticateInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { app } = ctx;
      const request = requestInfo(ctx);
      if (ctx.auth.kind === 'pending') {
        const { flowId, userId } = ctx.auth.flow;
        await assertFlowOpen(app, flowId, request);
        await app.attempts.consume(accountKeyFor(userId, ''));
        const { credential } = parseInput(assertionInputSchema, args.input);
        const outcome = await verifyWebAuthnAssertion(app, {
          userId, binding: bindings.flow(flowId), challengePurpose: 'mfa', purpose: 'login', response: credential,
          requireUserVerification: false, requireUserHandle: false,
        }, request, (tx, o) => finishMfaStepIn(app, tx, flowId, 'webauthn', o.accepted ? { accepted: true } : { accepted: false, reason: o.reason }, request));
        // Answered only now, after the transaction that recorded the failure has committed.
        if (!outcome.accepted) throw new DomainError(outcome.reason ?? 'WEBAUTHN_VERIFICATION_FAILED');
        if (!outcome.result) throw new DomainError('FLOW_EXPIRED');
        return adoptToken(ctx, outcome.result.token, app.config.sessionAbsoluteTimeoutSeconds);
      }
      const auth = requireSession(ctx);
      await app.attempts.consume(accountKeyFor(auth.user.id, ''));
      const { credential } = parseInput(assertionInputSchema, args.input);
      const outcome = await verifyWebAuthnAssertion(app, {
        userId: auth.user.id, binding: bindings.session(auth.session.id), challengePurpose: 'reauthentication', purpose: 'reauthentication',
        response: credential, requireUserVerification: false, requireUserHandle: false,
      }, request, (tx, o) => (o.accepted ? reauthenticateSession(app, auth.session.id, 'webauthn', 2, request, tx) : Promise.resolve(null)));
      if (!outcome.accepted || !outcome.result) throw new DomainError(outcome.reason ?? 'WEBAUTHN_VERIFICATION_FAILED');
      return adoptToken(ctx, outcome.result, app.config.sessionAbsoluteTimeoutSeconds);
    },
  }),
);

const LoginWithPasskeyInput = builder.inputType('LoginWithPasskeyInput', {
  fields: (t) => ({
    credential: t.field({ type: 'JSON', required: true, description: 'AuthenticationResponseJSON of a discoverable credential.' }),
    ceremonyToken: t.string({ required: false, description: 'From beginWebAuthnAuthentication(PASSKEY_LOGIN); browsers may rely on the cookie instead.' }),
  }),
});

builder.mutationField('loginWithPasskey', (t) =>
  t.field({
    errors: {},
    type: AuthPayloadRef,
    description: 'Passwordless login (MFA_LOGIN_WEBAUTHN): a user-verified passkey starts an AAL2 session.',
    args: { input: t.arg({ type: LoginWithPasskeyInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { app } = ctx;
      if (!app.config.passkeyLoginEnabled) throw new DomainError('FEATURE_DISABLED');
      const input = parseInput(assertionInputSchema.extend({ ceremonyToken: z.string().min(16).max(128).nullish() }), args.input);
      const ceremonyToken = input.ceremonyToken ?? readCeremonyCookie(ctx);
      const credentialId = extractCredentialId(input.credential) ?? '';
      const userId = await findCredentialOwner(app, credentialId);
      // An unknown credential still spends from a budget of its own, so probing credential ids is throttled too.
      await app.attempts.consume(accountKeyFor(userId, `credential:${credentialId.slice(0, 64)}`));
      if (!ceremonyToken) throw new DomainError('CHALLENGE_INVALID');
      if (!userId) {
        // Nobody to verify against, but the ceremony is still used up: it cannot be retried with another credential id.
        await consumeChallenge(app, { binding: bindings.ceremony(ceremonyToken), purpose: 'passkey_login', userId: null });
        throw new DomainError('WEBAUTHN_VERIFICATION_FAILED');
      }
      ctx.cookies.push({ name: webauthnCeremonyCookieName, value: '', maxAgeSeconds: 0 });
      const request = requestInfo(ctx);
      const withActor = { ...request, metadata: { ...request.metadata, actor: userId } };
      const outcome = await verifyWebAuthnAssertion(app, {
        userId, binding: bindings.ceremony(ceremonyToken), challengePurpose: 'passkey_login', purpose: 'passkey_login', response: input.credential,
        requireUserVerification: true, requireUserHandle: true,
      }, withActor, (tx, o) => (o.accepted ? completePasskeyLoginIn(app, tx, userId, withActor) : Promise.resolve(null)));
      if (!outcome.accepted || !outcome.result) throw new DomainError(outcome.reason ?? 'WEBAUTHN_VERIFICATION_FAILED');
      return adoptToken(ctx, outcome.result.token, app.config.sessionAbsoluteTimeoutSeconds);
    },
  }),
);

// ---------- passkey signup (MFA_SIGNUP_WEBAUTHN) ----------

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
      const { app } = ctx;
      if (!app.config.passkeySignupEnabled) throw new DomainError('FEATURE_DISABLED');
      const { email } = parseInput(z.object({ email: emailSchema }), args.input);
      if (ctx.auth.kind === 'session') throw new DomainError('CONFLICT', 'Already signed in.');
      // As signup answers: a taken address is told now rather than after the passkey was made. Completion checks again.
      if (await findUserByEmail(app.db, email)) throw new DomainError('EMAIL_TAKEN');
      const ceremonyToken = randomBytes(32).toString('base64url');
      const creationOptions = await beginPasskeySignup(app, { email, ceremonyToken });
      ctx.cookies.push({ name: webauthnCeremonyCookieName, value: ceremonyToken, maxAgeSeconds: WEBAUTHN_CHALLENGE_TTL_SECONDS });
      return { creationOptions, ceremonyToken };
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
    authState: t.field({ type: AuthStateRef, resolve: (p) => authStateOf(p.ctx) }),
  }),
});

builder.mutationField('completePasskeySignup', (t) =>
  t.field({
    errors: {},
    type: PasskeySignupPayloadRef,
    description: 'Verifies the new passkey (user verification required) and creates the account with it, recovery codes and an AAL2 session.',
    args: { input: t.arg({ type: CompletePasskeySignupInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { app } = ctx;
      if (!app.config.passkeySignupEnabled) throw new DomainError('FEATURE_DISABLED');
      const input = parseInput(z.object({ credential: registrationResponseSchema, ceremonyToken: z.string().min(16).max(128).nullish(), name: nameSchema.nullish() }), args.input);
      if (ctx.auth.kind === 'session') throw new DomainError('CONFLICT', 'Already signed in.');
      const ceremonyToken = input.ceremonyToken ?? readCeremonyCookie(ctx);
      if (!ceremonyToken) throw new DomainError('CHALLENGE_INVALID');
      ctx.cookies.push({ name: webauthnCeremonyCookieName, value: '', maxAgeSeconds: 0 });
      const signup = await completePasskeySignup(app, { ceremonyToken, response: input.credential, name: input.name ?? 'Passkey' }, requestInfo(ctx));
      await adoptToken(ctx, signup.session.token, app.config.sessionAbsoluteTimeoutSeconds);
      return { sessionToken: signup.session.token, recoveryCodes: signup.recoveryCodes, ctx };
    },
  }),
);

// ---------- management ----------

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
      const input = parseInput(z.object({ id: idSchema, name: nameSchema }), args.input);
      const auth = requireSession(ctx);
      await renameWebAuthn(ctx.app, { userId: auth.user.id, authenticatorId: input.id, name: input.name }, requestInfo(ctx));
      return { authenticator: (await listAuthenticators(ctx.app, auth.user.id)).find((a) => a.kind === 'WEBAUTHN' && a.credential.authenticatorId === input.id)! };
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
      const { ids } = parseInput(z.object({ ids: z.array(idSchema).min(1).max(50) }), args.input);
      const auth = await requireSensitiveChangeAllowed(ctx);
      await removeWebAuthn(ctx.app, { userId: auth.user.id, authenticatorIds: ids }, requestInfo(ctx));
      return { authenticators: await listAuthenticators(ctx.app, auth.user.id) };
    },
  }),
);

/** An attacker's cookie is data, not an exception: a value that does not decode is treated as absent. */
function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
