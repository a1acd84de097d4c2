// allauth's headless endpoints, one entry each: its method and path (below /_allauth/{client}/v1), the schemas the
// OpenAPI document is generated from, and the handler. A handler parses, calls the same use case as the GraphQL
// resolver of the same name, and maps the result; every rule (authorization, budget, transaction) is the use case's.
import { z } from 'zod';
import { changePassword } from '../application/accountChanges.js';
import { trustDevice } from '../application/devices.js';
import { requireSession } from '../application/authorization.js';
import { actorOf, resolveCaller } from '../application/caller.js';
import { logout } from '../application/logout.js';
import { completeMfaStepWithCode, reauthenticateWithCode } from '../application/mfaStep.js';
import { loginWithPasskey } from '../application/passkeyLogin.js';
import { beginPasskeySignup, completePasskeySignup } from '../application/passkeySignup.js';
import { passwordLogin } from '../application/passwordLogin.js';
import { reauthenticateWithPassword } from '../application/reauthentication.js';
import { regenerateRecoveryCodes, unusedRecoveryCodes } from '../application/recoveryCodes.js';
import { revokeSessions, type IssuedToken } from '../application/sessions.js';
import { signup } from '../application/signup.js';
import { resendEmailVerification, verifyEmail } from '../application/emailVerification.js';
import { requestPasswordReset, resetPassword } from '../application/passwordReset.js';
import { activateTotp, currentOrNewTotpSetup, deactivateTotp } from '../application/totpEnrollment.js';
import { emailSchema, idSchema, parseInput, passwordInputSchema } from '../application/validation.js';
import {
  beginWebAuthnAuthentication, completeMfaStepWithWebAuthn, reauthenticateWithWebAuthn,
} from '../application/webauthnAuthentication.js';
import { removeWebAuthn, removeWebAuthnInputSchema, renameWebAuthn, renameWebAuthnInputSchema } from '../application/webauthnManagement.js';
import { beginWebAuthnRegistration, beginWebAuthnRegistrationInputSchema, registerWebAuthn, registerWebAuthnInputSchema } from '../application/webauthnRegistration.js';
import { WEBAUTHN_CHALLENGE_TTL_SECONDS } from '../db/webauthnChallenges.js';
import { DomainError } from '../domain/shared/errors.js';
import { listSessionsForDisplay } from '../application/sessions.js';
import { ceremonyTokenOf, clearCeremonyToken, clearSessionToken, handOverCeremonyToken, handOverToken, type RestAnswer, type RestExchange } from './http.js';
import {
  authenticatorsBody, epochSeconds, loadAuthenticators, recoveryCodesBody, sessionAnswer, sessionGoneAnswer, totpBody, webauthnBody, type ErrorOptions,
} from './responses.js';
import * as s from './schemas.js';
import type { PasskeySignupOptionsCache } from './passkeySignupOptions.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteDoc {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** The answers this route gives besides the ones every route may give (400, 403, 429, 500). */
  responses: Partial<Record<200 | 401 | 404 | 409 | 410, { description: string; schema: z.ZodType }>>;
}

export interface Route {
  method: Method;
  /** Below /_allauth/{client}/v1. */
  path: string;
  doc: RouteDoc;
  errors?: ErrorOptions;
  handle(x: RestExchange): Promise<RestAnswer>;
}

const ok = (body: Record<string, unknown>): RestAnswer => ({ status: 200, body: { status: 200, ...body } });

const credentialsSchema = z.object({ email: emailSchema, password: passwordInputSchema });

/** A token a use case issued becomes this request's caller and is handed to the client (cookie or meta). */
async function adopt(x: RestExchange, issued: IssuedToken): Promise<void> {
  handOverToken(x, issued.token, issued.expiresInSeconds);
  x.caller = await resolveCaller(x.app, issued.token, x.request);
  x.request = { ...x.request, actor: actorOf(x.caller) };
}

/** The ceremony is over once its completion has been tried: its cookie goes whatever the answer. */
async function endingCeremony<T>(x: RestExchange, complete: () => Promise<T>): Promise<T> {
  try {
    return await complete();
  } finally {
    clearCeremonyToken(x);
  }
}

const sessionResponses = {
  200: { description: 'Authenticated.', schema: s.authenticatedResponseSchema },
  401: { description: 'Not authenticated: the flows, with the pending one marked (e.g. mfa_authenticate after a password).', schema: s.authenticationResponseSchema },
} as const;
const guardedResponses = {
  401: { description: 'Not authenticated, or the session must reauthenticate first (flows reauthenticate, mfa_reauthenticate).', schema: s.unauthorizedResponseSchema },
  410: { description: '`app` clients: the session token no longer names a session.', schema: s.sessionGoneResponseSchema },
} as const;
const conflict = { description: 'Conflict: no such flow is pending, or already signed in / already set up.', schema: s.conflictResponseSchema };

export function allauthRoutes(passkeySignupOptions: PasskeySignupOptionsCache): Route[] {
  return [
    // ---------- configuration ----------
    {
      method: 'GET', path: '/config',
      doc: { summary: 'What a frontend needs before it draws a form.', responses: { 200: { description: 'The configuration.', schema: s.configurationResponseSchema } } },
      async handle(x) {
        const c = x.app.config;
        return ok({
          data: {
            account: {
              authentication_method: 'email', login_methods: ['email'], is_open_for_signup: true,
              email_verification: c.emailVerification,
              email_verification_by_code_enabled: c.emailVerification !== 'none', login_by_code_enabled: false, password_reset_by_code_enabled: true,
            },
            mfa: { supported_types: c.mfaSupportedTypes, passkey_login_enabled: c.passkeyLoginEnabled, passkey_signup_enabled: c.passkeySignupEnabled, trust_enabled: c.mfaTrust.enabled },
            usersessions: { track_activity: c.trackSessionActivity },
          },
        });
      },
    },

    // ---------- authentication: account ----------
    {
      method: 'POST', path: '/auth/login',
      doc: { summary: 'Password login (passwordLogin).', body: s.requestBodies.login, responses: { ...sessionResponses, 409: { description: 'Already signed in.', schema: s.conflictResponseSchema } } },
      async handle(x) {
        // allauth answers a login by a signed-in client with 409 instead of starting a second session beside it.
        if (x.caller.kind === 'session' && !x.caller.session.enrollOnly) throw new DomainError('ALREADY_AUTHENTICATED');
        const result = await passwordLogin(x.app, parseInput(credentialsSchema, { email: x.body.email, password: x.body.password }), x.request);
        if (result.kind === 'session' || result.kind === 'verify_email') {
          await adopt(x, result.kind === 'session' ? result.session : result.pending);
          return sessionAnswer(x);
        }
        // The pending login is this request's caller now: what the next request would resolve, without reading it back.
        handOverToken(x, result.pending.token, result.pending.expiresInSeconds);
        x.caller = { kind: 'pending', token: result.pending.token, flow: { flowId: result.flowId, userId: result.userId, stage: 'MFA_AUTHENTICATE', types: result.types, expiresAt: result.expiresAt } };
        return sessionAnswer(x);
      },
    },
    {
      method: 'POST', path: '/auth/signup',
      doc: { summary: 'Signup with email and password (signup).', body: s.requestBodies.signup, responses: { ...sessionResponses, 409: { description: 'Already signed in.', schema: s.conflictResponseSchema } } },
      async handle(x) {
        await adopt(x, await signup(x.app, x.caller, parseInput(credentialsSchema, { email: x.body.email, password: x.body.password }), x.request));
        return sessionAnswer(x);
      },
    },
    {
      method: 'GET', path: '/auth/session',
      doc: { summary: 'The authentication state: 200 signed in, 401 with the flows (pending ones marked).', responses: { ...sessionResponses, 410: guardedResponses[410] } },
      async handle(x) {
        if (x.client === 'app' && x.presentedToken && x.caller.kind === 'anonymous' && !passkeySignupOptions.has(x.presentedToken)) return sessionGoneAnswer();
        const token = ceremonyTokenOf(x);
        return sessionAnswer(x, token && passkeySignupOptions.has(token) ? [{ id: 'mfa_signup_webauthn', is_pending: true }] : []);
      },
    },
    {
      method: 'DELETE', path: '/auth/session',
      doc: { summary: 'Logout: ends the session or the pending login (logout).', responses: { 401: { description: 'Signed out.', schema: s.authenticationResponseSchema } } },
      async handle(x) {
        await logout(x.app, x.caller, x.request);
        clearSessionToken(x);
        return sessionAnswer(x);
      },
    },
    {
      method: 'POST', path: '/auth/reauthenticate',
      doc: { summary: 'Reauthenticate with the password (reauthenticateWithPassword).', body: s.requestBodies.reauthenticate, responses: { 200: sessionResponses[200], ...guardedResponses } },
      errors: { invalidCredentials: { code: 'incorrect_password', param: 'password' } },
      async handle(x) {
        const { password } = parseInput(z.object({ password: passwordInputSchema }), { password: x.body.password });
        await adopt(x, await reauthenticateWithPassword(x.app, x.caller, password, x.request));
        return sessionAnswer(x);
      },
    },

    // ---------- authentication: 2FA ----------
    {
      method: 'POST', path: '/auth/2fa/authenticate',
      doc: { summary: 'The mfa_authenticate step with a TOTP or recovery code (completeMfaStepWithCode).', body: s.requestBodies.code, responses: { ...sessionResponses, 409: conflict } },
      async handle(x) {
        // The raw body goes to the use case: it draws an attempt before parsing, so a malformed guess counts too.
        await adopt(x, await completeMfaStepWithCode(x.app, x.caller, x.body, x.request));
        return sessionAnswer(x);
      },
    },
    {
      method: 'POST', path: '/auth/2fa/reauthenticate',
      doc: { summary: 'The mfa_reauthenticate flow with a TOTP or recovery code (reauthenticateWithCode).', body: s.requestBodies.code, responses: { 200: sessionResponses[200], ...guardedResponses } },
      async handle(x) {
        await adopt(x, await reauthenticateWithCode(x.app, x.caller, x.body, x.request));
        return sessionAnswer(x);
      },
    },
    {
      method: 'POST', path: '/auth/2fa/trust',
      doc: { summary: 'The mfa_trust flow after the MFA step: trust this browser, or not (trustDevice).', body: s.requestBodies.trust, responses: { 200: sessionResponses[200], ...guardedResponses, 409: conflict } },
      async handle(x) {
        const { trust } = parseInput(z.object({ trust: z.boolean() }), x.body);
        await trustDevice(x.app, x.caller, trust, x.request);
        return sessionAnswer(x);
      },
    },
    // ---------- authentication: email verification and password reset (issue 17) ----------
    {
      method: 'POST', path: '/auth/email/verify',
      doc: {
        summary: 'The code of the verify_email flow, or of a signed-in user\'s pending email change (verifyEmail).', body: s.requestBodies.verifyEmail,
        responses: { ...sessionResponses, 409: conflict },
      },
      errors: { invalidCode: { code: 'invalid_or_expired_key', param: 'key' } },
      async handle(x) {
        const { session } = await verifyEmail(x.app, x.caller, { code: x.body.key }, x.request);
        if (session) await adopt(x, session);
        else if (x.caller.kind === 'flow') {
          clearSessionToken(x);
        }
        return sessionAnswer(x);
      },
    },
    {
      method: 'POST', path: '/auth/email/verify/resend',
      doc: { summary: 'A new code for the verify_email flow (resendEmailVerification).', responses: { 200: { description: 'Sent (or nothing to send).', schema: s.statusOkResponseSchema }, 409: conflict } },
      async handle(x) {
        await resendEmailVerification(x.app, x.caller, x.request);
        return ok({});
      },
    },
    {
      method: 'POST', path: '/auth/password/request',
      doc: {
        summary: 'Mails a reset code and link (requestPasswordReset): 401 with password_reset_by_code pending, for every address alike.',
        body: s.requestBodies.passwordRequest,
        responses: { 401: { description: 'The password_reset_by_code flow is pending.', schema: s.authenticationResponseSchema } },
      },
      async handle(x) {
        await adopt(x, await requestPasswordReset(x.app, { email: String(x.body.email ?? "") }, x.request));
        return sessionAnswer(x);
      },
    },
    {
      method: 'POST', path: '/auth/password/reset',
      doc: {
        summary: 'Sets a new password with the code of the password_reset_by_code flow or the key of the mailed link (resetPassword). Signs nobody in.',
        body: s.requestBodies.passwordReset,
        responses: { 401: { description: 'Reset; not signed in (the next login asks for the second factor as before).', schema: s.authenticationResponseSchema }, 409: conflict },
      },
      errors: { invalidCode: { code: 'invalid_or_expired_key', param: 'key' } },
      async handle(x) {
        const key = typeof x.body.key === 'string' ? x.body.key : '';
        // A link key names its account (`<id>.<secret>`); anything else is the code of the pending flow.
        const input = key.includes('.') ? { key, newPassword: x.body.password } : { code: key, newPassword: x.body.password };
        await resetPassword(x.app, x.caller, input, x.request);
        clearSessionToken(x);
        return sessionAnswer(x);
      },
    },

    // ---------- authentication: WebAuthn ----------
    {
      method: 'GET', path: '/auth/webauthn/authenticate',
      doc: { summary: 'Request options for the mfa_authenticate step with a key.', responses: { 200: { description: 'Request options.', schema: s.requestOptionsResponseSchema }, 409: conflict } },
      async handle(x) {
        const { requestOptions } = await beginWebAuthnAuthentication(x.app, x.caller, { purpose: 'MFA' }, x.request);
        return ok({ data: { request_options: { publicKey: requestOptions } } });
      },
    },
    {
      method: 'POST', path: '/auth/webauthn/authenticate',
      doc: { summary: 'The mfa_authenticate step with a key (completeMfaStepWithWebAuthn).', body: s.requestBodies.credential, responses: { ...sessionResponses, 409: conflict } },
      async handle(x) {
        await adopt(x, await completeMfaStepWithWebAuthn(x.app, x.caller, { credential: x.body.credential }, x.request));
        return sessionAnswer(x);
      },
    },
    {
      method: 'GET', path: '/auth/webauthn/reauthenticate',
      doc: { summary: 'Request options for reauthentication with a key.', responses: { 200: { description: 'Request options.', schema: s.requestOptionsResponseSchema }, ...guardedResponses } },
      async handle(x) {
        const { requestOptions } = await beginWebAuthnAuthentication(x.app, x.caller, { purpose: 'REAUTHENTICATE' }, x.request);
        return ok({ data: { request_options: { publicKey: requestOptions } } });
      },
    },
    {
      method: 'POST', path: '/auth/webauthn/reauthenticate',
      doc: { summary: 'Reauthenticate with a key (reauthenticateWithWebAuthn).', body: s.requestBodies.credential, responses: { 200: sessionResponses[200], ...guardedResponses } },
      async handle(x) {
        await adopt(x, await reauthenticateWithWebAuthn(x.app, x.caller, { credential: x.body.credential }, x.request));
        return sessionAnswer(x);
      },
    },
    {
      method: 'GET', path: '/auth/webauthn/login',
      doc: { summary: 'Request options for a passkey login (mfa_login_webauthn). Browsers get the ceremony in an HttpOnly cookie, apps in meta.session_token.', responses: { 200: { description: 'Request options.', schema: s.requestOptionsResponseSchema } } },
      async handle(x) {
        const { requestOptions, ceremonyToken } = await beginWebAuthnAuthentication(x.app, x.caller, { purpose: 'PASSKEY_LOGIN' }, x.request);
        handOverCeremonyToken(x, ceremonyToken!, WEBAUTHN_CHALLENGE_TTL_SECONDS);
        return ok({ data: { request_options: { publicKey: requestOptions } }, ...(x.issuedToken ? { meta: { session_token: x.issuedToken } } : {}) });
      },
    },
    {
      method: 'POST', path: '/auth/webauthn/login',
      doc: { summary: 'Passkey login (loginWithPasskey).', body: s.requestBodies.credential, responses: sessionResponses },
      async handle(x) {
        const token = ceremonyTokenOf(x);
        const input = { credential: x.body.credential, ceremonyToken: x.client === 'app' ? token : undefined };
        const session = await endingCeremony(x, () => loginWithPasskey(x.app, input, { ceremonyCookie: x.client === 'browser' ? token : undefined }, x.request));
        x.issuedToken = undefined;
        await adopt(x, session);
        return sessionAnswer(x);
      },
    },
    {
      method: 'POST', path: '/auth/webauthn/signup',
      doc: {
        summary: 'Starts a passkey signup (beginPasskeySignup): 401 with mfa_signup_webauthn pending; then GET the creation options and PUT the credential.',
        body: s.requestBodies.passkeySignup,
        responses: { 401: { description: 'The passkey signup is pending.', schema: s.authenticationResponseSchema }, 409: { description: 'Already signed in.', schema: s.conflictResponseSchema } },
      },
      async handle(x) {
        const begun = await beginPasskeySignup(x.app, x.caller, { email: x.body.email }, x.request);
        passkeySignupOptions.put(begun.ceremonyToken, begun.creationOptions);
        handOverCeremonyToken(x, begun.ceremonyToken, WEBAUTHN_CHALLENGE_TTL_SECONDS);
        return sessionAnswer(x, [{ id: 'mfa_signup_webauthn', is_pending: true }]);
      },
    },
    {
      method: 'GET', path: '/auth/webauthn/signup',
      doc: { summary: 'The creation options of the pending passkey signup.', responses: { 200: { description: 'Creation options.', schema: s.creationOptionsResponseSchema }, 409: conflict } },
      async handle(x) {
        const token = ceremonyTokenOf(x);
        const options = token ? passkeySignupOptions.get(token) : undefined;
        if (!options) throw new DomainError('FLOW_NOT_PENDING', 'No passkey signup is pending: POST the email first.');
        return ok({ data: { creation_options: { publicKey: options } } });
      },
    },
    {
      method: 'PUT', path: '/auth/webauthn/signup',
      doc: { summary: 'Completes the passkey signup with the new credential (completePasskeySignup).', body: s.requestBodies.addWebAuthn, responses: { ...sessionResponses, 409: conflict } },
      async handle(x) {
        const token = ceremonyTokenOf(x);
        if (token) passkeySignupOptions.delete(token);
        const input = { credential: x.body.credential, name: x.body.name, ceremonyToken: x.client === 'app' ? token : undefined };
        const done = await endingCeremony(x, () => completePasskeySignup(x.app, x.caller, input, { ceremonyCookie: x.client === 'browser' ? token : undefined }, x.request));
        x.issuedToken = undefined;
        await adopt(x, done.session);
        return sessionAnswer(x);
      },
    },

    // ---------- account: authenticators ----------
    {
      method: 'GET', path: '/account/authenticators',
      doc: { summary: 'Every factor of the user.', responses: { 200: { description: 'The authenticators.', schema: s.authenticatorsResponseSchema }, ...guardedResponses } },
      async handle(x) {
        const auth = requireSession(x.caller, { allowEnrollOnly: true });
        return ok({ data: authenticatorsBody(await loadAuthenticators(x, auth.user.id)) });
      },
    },
    {
      method: 'GET', path: '/account/authenticators/totp',
      doc: {
        summary: 'TOTP status: 200 when active; otherwise 404 with the secret to set one up (currentOrNewTotpSetup: this session\'s pending one again, or a new one), to be confirmed by POST within 10 minutes.',
        responses: { 200: { description: 'TOTP is active.', schema: s.totpAuthenticatorResponseSchema }, 404: { description: 'No TOTP yet: a secret to set one up.', schema: s.totpNotFoundResponseSchema }, ...guardedResponses },
      },
      async handle(x) {
        const auth = requireSession(x.caller, { allowEnrollOnly: true });
        const state = await loadAuthenticators(x, auth.user.id);
        if (state.totp.status === 'active') return ok({ data: totpBody(state) });
        const setup = await currentOrNewTotpSetup(x.app, x.caller, x.request);
        return { status: 404, body: { status: 404, meta: { secret: setup.secret, totp_url: setup.totpUrl } } };
      },
    },
    {
      method: 'POST', path: '/account/authenticators/totp',
      doc: { summary: 'Activates TOTP with a code (activateTotp); the session is rotated to AAL2.', body: s.requestBodies.code, responses: { 200: { description: 'Activated.', schema: s.totpAuthenticatorResponseSchema }, ...guardedResponses, 409: conflict } },
      async handle(x) {
        const activation = await activateTotp(x.app, x.caller, x.body, x.request);
        handOverToken(x, activation.session.token, activation.session.expiresInSeconds);
        return ok({ data: totpBody(activation.authenticators), meta: { recovery_codes_generated: activation.recoveryCodes !== null, ...(x.issuedToken ? { session_token: x.issuedToken } : {}) } });
      },
    },
    {
      method: 'DELETE', path: '/account/authenticators/totp',
      doc: { summary: 'Deactivates TOTP (deactivateTotp); needs a recent authentication.', responses: { 200: { description: 'Deactivated.', schema: s.statusOkResponseSchema }, ...guardedResponses } },
      async handle(x) {
        await deactivateTotp(x.app, x.caller, x.request);
        return ok({});
      },
    },
    {
      method: 'GET', path: '/account/authenticators/recovery-codes',
      doc: { summary: 'The unused recovery codes (unusedRecoveryCodes); needs a recent authentication.', responses: { 200: { description: 'The codes.', schema: s.recoveryCodesResponseSchema }, 404: { description: 'No recovery codes.', schema: s.notFoundResponseSchema }, ...guardedResponses } },
      async handle(x) {
        const codes = await unusedRecoveryCodes(x.app, x.caller);
        const body = recoveryCodesBody(await loadAuthenticators(x, requireSession(x.caller, { allowEnrollOnly: true }).user.id));
        if (!body) return { status: 404, body: { status: 404 } };
        return ok({ data: { ...body, unused_codes: codes } });
      },
    },
    {
      method: 'POST', path: '/account/authenticators/recovery-codes',
      doc: { summary: 'A new set of recovery codes (regenerateRecoveryCodes); the old set stops working.', responses: { 200: { description: 'The new codes.', schema: s.recoveryCodesResponseSchema }, ...guardedResponses } },
      async handle(x) {
        const codes = await regenerateRecoveryCodes(x.app, x.caller, x.request);
        const body = recoveryCodesBody(await loadAuthenticators(x, requireSession(x.caller, { allowEnrollOnly: true }).user.id))!;
        return ok({ data: { ...body, unused_codes: codes } });
      },
    },

    // ---------- account: WebAuthn ----------
    {
      method: 'GET', path: '/account/authenticators/webauthn',
      doc: {
        summary: 'Creation options for a new key (beginWebAuthnRegistration); `?passwordless` for a passkey.',
        query: z.object({ passwordless: z.string().optional() }),
        responses: { 200: { description: 'Creation options.', schema: s.creationOptionsResponseSchema }, ...guardedResponses, 409: conflict },
      },
      async handle(x) {
        const raw = x.query.get('passwordless');
        const passwordless = raw !== null && raw !== 'false' && raw !== '0';
        const options = await beginWebAuthnRegistration(x.app, x.caller, parseInput(beginWebAuthnRegistrationInputSchema, { passwordless }));
        return ok({ data: { creation_options: { publicKey: options } } });
      },
    },
    {
      method: 'POST', path: '/account/authenticators/webauthn',
      doc: { summary: 'Registers the new key (registerWebAuthn); the session is rotated to AAL2.', body: s.requestBodies.addWebAuthn, responses: { 200: { description: 'Registered.', schema: s.addWebAuthnResponseSchema }, ...guardedResponses, 409: conflict } },
      async handle(x) {
        const input = parseInput(registerWebAuthnInputSchema, { name: x.body.name ?? 'Security key', credential: x.body.credential });
        const registration = await registerWebAuthn(x.app, x.caller, input, x.request);
        handOverToken(x, registration.session.token, registration.session.expiresInSeconds);
        const key = registration.authenticators.webauthn.find((c) => c.authenticatorId === registration.authenticatorId)!;
        return ok({ data: webauthnBody(key), meta: { recovery_codes_generated: registration.recoveryCodes !== null, ...(x.issuedToken ? { session_token: x.issuedToken } : {}) } });
      },
    },
    {
      method: 'PUT', path: '/account/authenticators/webauthn',
      doc: { summary: 'Renames a key (renameWebAuthn).', body: s.requestBodies.renameWebAuthn, responses: { 200: { description: 'Renamed.', schema: s.webauthnAuthenticatorResponseSchema }, ...guardedResponses } },
      async handle(x) {
        const input = parseInput(renameWebAuthnInputSchema, { id: x.body.id, name: x.body.name });
        const state = await renameWebAuthn(x.app, x.caller, input, x.request);
        return ok({ data: webauthnBody(state.webauthn.find((c) => c.authenticatorId === input.id)!) });
      },
    },
    {
      method: 'DELETE', path: '/account/authenticators/webauthn',
      doc: { summary: 'Removes keys (removeWebAuthn); needs a recent authentication.', body: s.requestBodies.deleteWebAuthn, responses: { 200: { description: 'Removed.', schema: s.statusOkResponseSchema }, ...guardedResponses } },
      async handle(x) {
        await removeWebAuthn(x.app, x.caller, parseInput(removeWebAuthnInputSchema, { ids: x.body.authenticators }), x.request);
        return ok({});
      },
    },

    // ---------- sessions ----------
    {
      method: 'GET', path: '/auth/sessions',
      doc: { summary: 'The user\'s active sessions.', responses: { 200: { description: 'The sessions.', schema: s.sessionsResponseSchema }, ...guardedResponses } },
      async handle(x) {
        return ok({ data: await sessionsOf(x) });
      },
    },
    {
      method: 'DELETE', path: '/auth/sessions',
      doc: { summary: 'Ends some of the user\'s sessions (revokeSessions); ending the current one signs out (401).', body: s.requestBodies.endSessions, responses: { 200: { description: 'The sessions left.', schema: s.sessionsResponseSchema }, ...guardedResponses } },
      async handle(x) {
        const { ids } = parseInput(z.object({ ids: z.array(idSchema).min(1).max(100) }), { ids: x.body.sessions });
        const { endedCurrent } = await revokeSessions(x.app, x.caller, ids, x.request);
        if (endedCurrent) {
          clearSessionToken(x);
          return sessionAnswer(x);
        }
        return ok({ data: await sessionsOf(x) });
      },
    },

    // ---------- account: password ----------
    {
      method: 'POST', path: '/account/password/change',
      doc: { summary: 'Changes the password (changePassword); every other session ends.', body: s.requestBodies.changePassword, responses: { 200: sessionResponses[200], ...guardedResponses } },
      errors: { invalidCredentials: { code: 'incorrect_password', param: 'current_password' } },
      async handle(x) {
        const input = parseInput(z.object({ currentPassword: passwordInputSchema, newPassword: passwordInputSchema }), {
          currentPassword: x.body.current_password ?? '', newPassword: x.body.new_password,
        });
        await changePassword(x.app, x.caller, input, x.request);
        return sessionAnswer(x);
      },
    },
  ];
}

async function sessionsOf(x: RestExchange): Promise<Array<z.infer<typeof s.sessionSchema>>> {
  const auth = requireSession(x.caller);
  return (await listSessionsForDisplay(x.app, auth.user.id)).map((row) => ({
    id: row.session_id, user_agent: row.user_agent ?? '', ip: row.ip ?? '', created_at: epochSeconds(row.created_at), last_seen_at: epochSeconds(row.last_seen_at),
    is_current: row.session_id === auth.session.id,
  }));
}
