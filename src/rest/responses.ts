// From the use cases' results and errors to allauth's answers: the session envelope (200 authenticated, 401 with
// flows), the reauthentication 401, 409 conflicts, 410 for a gone app session, 429, and 400 error objects.
import { authStateOf, type Flow } from '../application/authState.js';
import type { Caller, SessionCaller } from '../application/caller.js';
import { load } from '../application/commandHandler.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { unusedRecoveryCodeCount, type AuthenticatorsState, type WebAuthnCredentialState } from '../domain/authenticators/state.js';
import type { SessionMethod } from '../domain/session/events.js';
import { DomainError, type ErrorCode } from '../domain/shared/errors.js';
import { userAggregate } from '../domain/user/aggregate.js';
import type { RestAnswer, RestExchange } from './http.js';
import type { AuthenticatorBody, ErrorObject, FlowBody, MethodBody, UserBody } from './schemas.js';

export function epochSeconds(at: string | Date | null): number {
  return new Date(at ?? 0).getTime() / 1000;
}

function meta(x: RestExchange, isAuthenticated: boolean): { is_authenticated: boolean; session_token?: string } {
  return { is_authenticated: isAuthenticated, ...(x.issuedToken ? { session_token: x.issuedToken } : {}) };
}

const authenticatorTypeOf = { TOTP: 'totp', RECOVERY_CODES: 'recovery_codes', WEBAUTHN: 'webauthn', EMAIL: 'email' } as const;

export function flowBody(flow: Flow): FlowBody {
  return {
    id: flow.id.toLowerCase() as FlowBody['id'],
    ...(flow.isPending ? { is_pending: true as const } : {}),
    ...(flow.types ? { types: flow.types.map((t) => authenticatorTypeOf[t]) } : {}),
  };
}

/**
 * A session's methods as allauth lists them: the password, then `mfa` entries with the factor's type. A trusted
 * device (`trust`) proves no factor, so it has no entry: the session reads as the password alone, which it is (AAL1).
 */
export function methodBody(m: SessionMethod, email: string): MethodBody | null {
  const at = epochSeconds(m.at);
  switch (m.method) {
    case 'password': return { method: 'password', at, email };
    case 'reauthentication': return { method: 'password', at, reauthenticated: true };
    case 'totp': return { method: 'mfa', at, type: 'totp' };
    case 'recovery_code': return { method: 'mfa', at, type: 'recovery_codes' };
    case 'webauthn': return { method: 'mfa', at, type: 'webauthn' };
    case 'passkey': return { method: 'mfa', at, type: 'webauthn', passwordless: true };
    case 'email': return { method: 'mfa', at, type: 'email' };
    case 'trust': return null;
  }
}

async function userBody(x: RestExchange, caller: SessionCaller): Promise<UserBody> {
  const { state } = await load(x.app.store, userAggregate, caller.user.id);
  return { id: caller.user.id, display: caller.user.email, has_usable_password: state.passwordHash !== null, email: caller.user.email };
}

async function sessionData(x: RestExchange, caller: SessionCaller): Promise<{ user: UserBody; methods: MethodBody[] }> {
  return { user: await userBody(x, caller), methods: caller.session.methods.flatMap((m) => methodBody(m as SessionMethod, caller.user.email) ?? []) };
}

/** Flows an allauth client expects beside a pending one: the entry flows stay listed, as allauth lists them. */
async function flowsOf(x: RestExchange, caller: Caller, extra: FlowBody[] = []): Promise<FlowBody[]> {
  const state = await authStateOf(x.app, caller);
  let flows = state.flows.map(flowBody);
  if (caller.kind === 'pending' && flows.some((f) => f.is_pending)) {
    flows = [...(await authStateOf(x.app, { kind: 'anonymous' })).flows.map(flowBody), ...flows];
  }
  // A pending flow replaces the same flow listed as available.
  return [...flows.filter((f) => !extra.some((e) => e.id === f.id)), ...extra];
}

/** auth/session's answer for the exchange's caller: 200 with the user and methods, else 401 with the flows. */
export async function sessionAnswer(x: RestExchange, extraFlows: FlowBody[] = []): Promise<RestAnswer> {
  const caller = x.caller;
  if (caller.kind === 'session' && !caller.session.enrollOnly) {
    return { status: 200, body: { status: 200, data: await sessionData(x, caller), meta: meta(x, true) } };
  }
  return { status: 401, body: { status: 401, data: { flows: await flowsOf(x, caller, extraFlows) }, meta: meta(x, false) } };
}

/** A signed-in user who must prove it again (allauth's ReauthenticationRequired): 401 with the user and the flows. */
async function reauthenticationAnswer(x: RestExchange, caller: SessionCaller): Promise<RestAnswer> {
  const flows = await flowsOf(x, caller);
  return { status: 401, body: { status: 401, data: { ...(await sessionData(x, caller)), flows }, meta: { ...meta(x, true), is_authenticated: true } } };
}

/** allauth's 410: an app presented a session token that no longer names a session. */
export function sessionGoneAnswer(): RestAnswer {
  return { status: 410, body: { status: 410, data: {}, meta: { is_authenticated: false } } };
}

// ---------- errors ----------

/** Tessera's field names as allauth's parameters. */
const paramNames: Record<string, string> = {
  currentPassword: 'current_password', newPassword: 'new_password', ids: 'authenticators', input: 'body',
};

/** Where allauth has its own code for the case, that one; otherwise Tessera's code in lower case. */
const allauthCodes: Partial<Record<ErrorCode, { code: string; param?: string }>> = {
  VALIDATION_FAILED: { code: 'invalid' },
  INVALID_CODE: { code: 'incorrect_code', param: 'code' },
  CODE_REPLAYED: { code: 'code_replayed', param: 'code' },
  INVALID_CREDENTIALS: { code: 'email_password_mismatch', param: 'password' },
  EMAIL_TAKEN: { code: 'email_taken', param: 'email' },
  WEAK_PASSWORD: { code: 'password_too_weak', param: 'password' },
  CHALLENGE_INVALID: { code: 'challenge_invalid', param: 'credential' },
  WEBAUTHN_VERIFICATION_FAILED: { code: 'incorrect_credential', param: 'credential' },
  CLONE_SUSPECTED: { code: 'clone_suspected', param: 'credential' },
  CREDENTIAL_ALREADY_REGISTERED: { code: 'credential_already_registered', param: 'credential' },
};

const conflictCodes = new Set<ErrorCode>(['ALREADY_AUTHENTICATED', 'FLOW_NOT_PENDING', 'FLOW_EXPIRED', 'TOTP_ALREADY_ACTIVE', 'TOTP_NOT_PENDING', 'ALREADY_EXISTS']);
const authenticationCodes = new Set<ErrorCode>(['NOT_AUTHENTICATED', 'MFA_REQUIRED', 'REAUTHENTICATION_REQUIRED']);
// PASSWORD_RESET_REQUIRED, FACTOR_SUSPENDED: 400 with the code, like any refused credential.

export interface ErrorOptions {
  /** Per route: the code and parameter a wrong password is reported under (login vs reauthentication vs change). */
  invalidCredentials?: { code: string; param: string };
  /** Per route: how a wrong, expired or used emailed code or key is reported (allauth: invalid_or_expired_key). */
  invalidCode?: { code: string; param: string };
}

const emailCodeErrors = new Set<ErrorCode>(['INVALID_CODE', 'INVALID_KEY', 'FLOW_EXPIRED']);

export function errorObject(error: DomainError, options: ErrorOptions = {}): ErrorObject {
  const known = error.code === 'INVALID_CREDENTIALS' && options.invalidCredentials ? options.invalidCredentials
    : emailCodeErrors.has(error.code) && options.invalidCode ? options.invalidCode
    : allauthCodes[error.code];
  const field = error.details.field;
  const param = field ? paramNames[field] ?? field : known?.param;
  return { message: error.message, code: known?.code ?? error.code.toLowerCase(), ...(param ? { param } : {}) };
}

/** The answer to an expected failure, with allauth's status for its kind. */
export async function errorAnswer(x: RestExchange, error: DomainError, options: ErrorOptions = {}): Promise<RestAnswer> {
  const errors = [errorObject(error, options)];
  // A wrong or expired emailed code is a 400 on that route (allauth), not a 409 for a flow.
  if (options.invalidCode && emailCodeErrors.has(error.code)) return { status: 400, body: { status: 400, errors } };
  if (authenticationCodes.has(error.code)) {
    if (x.caller.kind === 'session' && !x.caller.session.enrollOnly) return reauthenticationAnswer(x, x.caller);
    if (x.client === 'app' && x.presentedToken && x.caller.kind === 'anonymous') return sessionGoneAnswer();
    return sessionAnswer(x);
  }
  if (error.code === 'RATE_LIMITED' || error.code === 'ACCOUNT_LOCKED') {
    const retry = error.details.retryAfterSeconds;
    return { status: 429, body: { status: 429, errors }, headers: retry ? { 'retry-after': String(retry) } : {} };
  }
  if (conflictCodes.has(error.code)) return { status: 409, body: { status: 409, errors } };
  if (error.code === 'NOT_FOUND') return { status: 404, body: { status: 404, errors } };
  if (error.code === 'FORBIDDEN' || error.code === 'FEATURE_DISABLED') return { status: 403, body: { status: 403, errors } };
  return { status: 400, body: { status: 400, errors } };
}

// ---------- authenticators ----------

export function webauthnBody(c: WebAuthnCredentialState): Extract<AuthenticatorBody, { type: 'webauthn' }> {
  return { type: 'webauthn', id: c.authenticatorId, name: c.name, is_passwordless: c.isPasswordless, created_at: epochSeconds(c.createdAt), last_used_at: c.lastUsedAt ? epochSeconds(c.lastUsedAt) : null };
}

export function totpBody(state: AuthenticatorsState): Extract<AuthenticatorBody, { type: 'totp' }> {
  return { type: 'totp', created_at: epochSeconds(state.totp.createdAt), last_used_at: state.totp.lastUsedAt ? epochSeconds(state.totp.lastUsedAt) : null };
}

export function recoveryCodesBody(state: AuthenticatorsState): Extract<AuthenticatorBody, { type: 'recovery_codes' }> | null {
  const set = state.recoveryCodes;
  if (!set) return null;
  return {
    type: 'recovery_codes', created_at: epochSeconds(set.createdAt), last_used_at: set.lastUsedAt ? epochSeconds(set.lastUsedAt) : null,
    total_code_count: set.codeHashes.length, unused_code_count: unusedRecoveryCodeCount(state),
  };
}

export function authenticatorsBody(state: AuthenticatorsState): AuthenticatorBody[] {
  const list: AuthenticatorBody[] = [];
  if (state.totp.status === 'active') list.push(totpBody(state));
  const codes = recoveryCodesBody(state);
  if (codes) list.push(codes);
  for (const c of state.webauthn) list.push(webauthnBody(c));
  return list;
}

export async function loadAuthenticators(x: RestExchange, userId: string): Promise<AuthenticatorsState> {
  return (await load(x.app.store, authenticatorsAggregate, userId)).state;
}

export { DomainError };
