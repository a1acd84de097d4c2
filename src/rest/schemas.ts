// The facade's request and response schemas, written by us from allauth's headless specification (README: which
// commit). They are the single source of the OpenAPI document at /_allauth/openapi.json (routes.ts registers every
// route with them); the handlers build their answers with the types inferred from them.
import { z } from 'zod';

// ---------- shared pieces ----------

export const timestampSchema = z.number().describe('Seconds since the epoch (allauth: `new Date(value * 1000)`).');

export const authenticatorTypeSchema = z.enum(['totp', 'recovery_codes', 'webauthn', 'email']);

export const flowIdSchema = z.enum([
  'login', 'signup', 'mfa_authenticate', 'reauthenticate', 'mfa_reauthenticate', 'mfa_login_webauthn', 'mfa_signup_webauthn', 'mfa_trust',
  'mfa_enroll_required', 'verify_email', 'password_reset_by_code',
]).describe('allauth flow ids; `mfa_enroll_required` is Tessera\'s own (a privileged user past the MFA grace period may only set up a factor).');

export const flowSchema = z.object({
  id: flowIdSchema,
  is_pending: z.literal(true).optional(),
  types: z.array(authenticatorTypeSchema).optional().describe('The factors that can complete the flow (mfa_authenticate, mfa_reauthenticate).'),
});

export const errorObjectSchema = z.object({
  message: z.string(),
  code: z.string().describe('allauth\'s code where allauth has one for the case (incorrect_code, email_password_mismatch, incorrect_password, invalid), else Tessera\'s code in lower case.'),
  param: z.string().optional().describe('The input field at fault.'),
});

export const authenticationMetaSchema = z.object({
  is_authenticated: z.boolean(),
  session_token: z.string().optional().describe('`app` clients only: send it as X-Session-Token from now on.'),
});

export const userSchema = z.object({
  id: z.string(),
  display: z.string(),
  has_usable_password: z.boolean(),
  email: z.string(),
});

export const authenticationMethodSchema = z.union([
  z.object({ method: z.literal('password'), at: timestampSchema, email: z.string().optional(), reauthenticated: z.literal(true).optional() }),
  z.object({
    method: z.literal('mfa'), at: timestampSchema, type: authenticatorTypeSchema, reauthenticated: z.boolean().optional(),
    passwordless: z.boolean().optional().describe('A passkey login.'),
  }),
]);

export const sessionDataSchema = z.object({ user: userSchema, methods: z.array(authenticationMethodSchema) });

// ---------- envelopes ----------

export const authenticatedResponseSchema = z.object({ status: z.literal(200), data: sessionDataSchema, meta: authenticationMetaSchema });

export const authenticationResponseSchema = z.object({
  status: z.literal(401),
  data: z.object({ flows: z.array(flowSchema) }),
  meta: authenticationMetaSchema,
});

export const reauthenticationResponseSchema = z.object({
  status: z.literal(401),
  data: sessionDataSchema.extend({ flows: z.array(flowSchema) }),
  meta: authenticationMetaSchema.extend({ is_authenticated: z.literal(true) }),
});

export const unauthorizedResponseSchema = z.union([authenticationResponseSchema, reauthenticationResponseSchema]);

export const sessionGoneResponseSchema = z.object({ status: z.literal(410), data: z.object({}), meta: authenticationMetaSchema });

export const errorResponseSchema = z.object({ status: z.literal(400), errors: z.array(errorObjectSchema).min(1) });

const statusWithErrors = <S extends number>(status: S) => z.object({ status: z.literal(status), errors: z.array(errorObjectSchema).optional() });

export const forbiddenResponseSchema = statusWithErrors(403);
export const notFoundResponseSchema = statusWithErrors(404);
export const methodNotAllowedResponseSchema = statusWithErrors(405);
export const conflictResponseSchema = statusWithErrors(409);
export const tooManyRequestsResponseSchema = statusWithErrors(429);
export const serverErrorResponseSchema = statusWithErrors(500);
export const statusOkResponseSchema = z.object({ status: z.literal(200) });

// ---------- configuration ----------

export const configurationResponseSchema = z.object({
  status: z.literal(200),
  data: z.object({
    account: z.object({
      authentication_method: z.literal('email'),
      login_methods: z.array(z.literal('email')),
      is_open_for_signup: z.boolean(),
      email_verification: z.enum(['none', 'optional', 'mandatory']).describe('Tessera\'s ACCOUNT_EMAIL_VERIFICATION.'),
      email_verification_by_code_enabled: z.boolean(),
      login_by_code_enabled: z.boolean(),
      password_reset_by_code_enabled: z.boolean(),
    }),
    mfa: z.object({
      supported_types: z.array(authenticatorTypeSchema),
      passkey_login_enabled: z.boolean(),
      passkey_signup_enabled: z.boolean(),
      trust_enabled: z.boolean(),
    }),
    usersessions: z.object({ track_activity: z.boolean() }),
  }),
});

// ---------- authenticators ----------

const baseAuthenticator = { created_at: timestampSchema, last_used_at: timestampSchema.nullable() };

export const totpAuthenticatorSchema = z.object({ type: z.literal('totp'), ...baseAuthenticator });
export const recoveryCodesAuthenticatorSchema = z.object({
  type: z.literal('recovery_codes'), ...baseAuthenticator, total_code_count: z.number().int(), unused_code_count: z.number().int(),
});
export const sensitiveRecoveryCodesAuthenticatorSchema = recoveryCodesAuthenticatorSchema.extend({ unused_codes: z.array(z.string()) });
export const webauthnAuthenticatorSchema = z.object({
  type: z.literal('webauthn'), ...baseAuthenticator, id: z.string(), name: z.string(), is_passwordless: z.boolean(),
});
export const authenticatorSchema = z.union([totpAuthenticatorSchema, recoveryCodesAuthenticatorSchema, webauthnAuthenticatorSchema]);

export const authenticatorsResponseSchema = z.object({ status: z.literal(200), data: z.array(authenticatorSchema) });

/** After a change that rotated the session (a new factor proven): app clients get the new token here. */
const rotatedMeta = z.object({
  recovery_codes_generated: z.boolean().optional(),
  session_token: z.string().optional().describe('`app` clients only: the session was rotated to AAL2; its new token.'),
});

export const totpAuthenticatorResponseSchema = z.object({ status: z.literal(200), data: totpAuthenticatorSchema, meta: rotatedMeta.optional() });
export const totpNotFoundResponseSchema = z.object({
  status: z.literal(404),
  meta: z.object({ secret: z.string().describe('Base32, valid for 10 minutes.'), totp_url: z.string().describe('otpauth:// URI for a QR code.') }),
});
export const recoveryCodesResponseSchema = z.object({ status: z.literal(200), data: sensitiveRecoveryCodesAuthenticatorSchema });
export const webauthnAuthenticatorResponseSchema = z.object({ status: z.literal(200), data: webauthnAuthenticatorSchema });
export const addWebAuthnResponseSchema = z.object({ status: z.literal(200), data: webauthnAuthenticatorSchema, meta: rotatedMeta });

export const requestOptionsResponseSchema = z.object({
  status: z.literal(200),
  data: z.object({ request_options: z.object({ publicKey: z.record(z.string(), z.unknown()) }) }),
  meta: z.object({ session_token: z.string().optional().describe('`app` clients, passkey login: the ceremony\'s token, sent back as X-Session-Token.') }).optional(),
});
export const creationOptionsResponseSchema = z.object({
  status: z.literal(200),
  data: z.object({ creation_options: z.object({ publicKey: z.record(z.string(), z.unknown()) }) }),
});

// ---------- sessions ----------

export const sessionSchema = z.object({
  id: z.string(), user_agent: z.string(), ip: z.string(), created_at: timestampSchema, last_seen_at: timestampSchema, is_current: z.boolean(),
});
export const sessionsResponseSchema = z.object({ status: z.literal(200), data: z.array(sessionSchema) });

// ---------- request bodies (shapes; the use cases' own schemas validate the values) ----------

const credential = z.record(z.string(), z.unknown()).describe('PublicKeyCredential JSON (`credential.toJSON()`).');

export const requestBodies = {
  login: z.object({ email: z.string(), password: z.string() }),
  signup: z.object({ email: z.string(), password: z.string() }),
  reauthenticate: z.object({ password: z.string() }),
  code: z.object({ code: z.string().describe('A TOTP code or a recovery code.') }),
  trust: z.object({ trust: z.boolean().describe('Trust this browser: later password logins from it skip the MFA step.') }),
  credential: z.object({ credential }),
  passkeySignup: z.object({ email: z.string() }),
  addWebAuthn: z.object({ name: z.string().optional(), credential }),
  renameWebAuthn: z.object({ id: z.string(), name: z.string() }),
  deleteWebAuthn: z.object({ authenticators: z.array(z.string()) }),
  endSessions: z.object({ sessions: z.array(z.string()) }),
  changePassword: z.object({ current_password: z.string().optional(), new_password: z.string() }),
  verifyEmail: z.object({ key: z.string().describe('The emailed code.') }),
  passwordRequest: z.object({ email: z.string() }),
  passwordReset: z.object({ key: z.string().describe('The code of the password_reset_by_code flow, or the key of the mailed link.'), password: z.string() }),
} as const;

export type AuthenticatedResponse = z.infer<typeof authenticatedResponseSchema>;
export type AuthenticationResponse = z.infer<typeof authenticationResponseSchema>;
export type ReauthenticationResponse = z.infer<typeof reauthenticationResponseSchema>;
export type FlowBody = z.infer<typeof flowSchema>;
export type ErrorObject = z.infer<typeof errorObjectSchema>;
export type AuthenticatorBody = z.infer<typeof authenticatorSchema>;
export type UserBody = z.infer<typeof userSchema>;
export type MethodBody = z.infer<typeof authenticationMethodSchema>;
