// A framework-free client for Tessera's GraphQL API. Two modes:
// - cookie (browsers): the session lives in an HttpOnly cookie the page never sees; the client only adds the CSRF
//   header every browser POST needs, and ignores `sessionToken` (the server sends it to app clients only).
// - token (apps, Node): sends `X-Tessera-Client: app`, keeps the `sessionToken` of each payload, and sends it back as
//   `Authorization: Bearer`; likewise the `deviceToken` (this install's device, which known-device budgets and
//   "trust this device" hang on), sent back as `X-Tessera-Device` on every request and kept across logouts.
// Every call resolves to a Result: an expected failure (a wrong code, a refused reauthentication, the network down)
// is data with a stable code, never an exception.
import { print } from '@0no-co/graphql.web';
import type { TadaDocumentNode } from 'gql.tada';
import { initialStatus, pendingFlowOf, transition, type AuthEvent, type AuthState, type AuthStatus, type PendingFlow } from './flow.js';
import type { ResultOf, VariablesOf } from './graphql.js';
import * as op from './operations.js';

export type ErrorCode = ResultOf<typeof op.ErrorFields>['code'];

export interface TesseraError {
  /** The server's ErrorCode, or NETWORK_ERROR (no answer) / GRAPHQL_ERROR (a request the server refused outright). */
  code: ErrorCode | 'NETWORK_ERROR' | 'GRAPHQL_ERROR';
  message: string;
  /** The input at fault (VALIDATION_FAILED). */
  field?: string | null;
  /** When to try again (RATE_LIMITED, ACCOUNT_LOCKED). */
  retryAfterSeconds?: number | null;
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: TesseraError };

export interface TesseraClientOptions {
  /** The GraphQL endpoint: `/graphql` in a page served by Tessera, an absolute URL elsewhere. */
  url?: string;
  /** `cookie` for browsers (default when `document` exists), `token` for apps and Node. */
  mode?: 'cookie' | 'token';
  /** Token mode: a session token kept from an earlier run. */
  token?: string | null;
  /** Token mode: called whenever the token changes (to persist it), with null when the session ended. */
  onToken?: (token: string | null) => void;
  /** Token mode: the device token kept from an earlier run (browsers have the HttpOnly `tessera_device` cookie instead). */
  deviceToken?: string | null;
  /** Token mode: called when the server hands out a device token (to persist it: it outlives sessions). */
  onDeviceToken?: (token: string) => void;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

type Listener = (status: AuthStatus) => void;
type Payload<D, K extends keyof D> = Exclude<NonNullable<D[K]>, { __typename: 'AuthError' }>;

export type TesseraClient = ReturnType<typeof createTesseraClient>;

export function createTesseraClient(options: TesseraClientOptions = {}) {
  const url = options.url ?? '/graphql';
  const mode = options.mode ?? (typeof document === 'undefined' ? 'token' : 'cookie');
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  let token = options.token ?? null;
  let deviceToken = options.deviceToken ?? null;
  let status: AuthStatus = initialStatus;
  const listeners = new Set<Listener>();

  function dispatch(event: AuthEvent): void {
    const next = transition(status, event);
    if (next === status) return;
    status = next;
    for (const listener of listeners) listener(status);
  }

  function setToken(next: string | null): void {
    if (mode !== 'token' || next === token) return;
    token = next;
    options.onToken?.(next);
  }

  function setDeviceToken(next: string): void {
    if (mode !== 'token' || next === deviceToken) return;
    deviceToken = next;
    options.onDeviceToken?.(next);
  }

  async function request<D, V>(document: TadaDocumentNode<D, V>, variables?: V): Promise<Result<D>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tessera-csrf': '1', ...options.headers };
    if (mode === 'token') {
      headers['x-tessera-client'] = 'app';
      if (token) headers.authorization = `Bearer ${token}`;
      if (deviceToken) headers['x-tessera-device'] = deviceToken;
    }
    let json: { data?: D | null; errors?: Array<{ message: string }> };
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: print(document), variables }),
        credentials: mode === 'cookie' ? 'include' : 'omit',
      });
      json = (await response.json()) as typeof json;
    } catch (error) {
      return { ok: false, error: { code: 'NETWORK_ERROR', message: error instanceof Error ? error.message : String(error) } };
    }
    if (!json.data || json.errors?.length) {
      return { ok: false, error: { code: 'GRAPHQL_ERROR', message: json.errors?.map((e) => e.message).join('; ') || 'No data' } };
    }
    return { ok: true, data: json.data };
  }

  /** One mutation or union-typed query: its success member, or its AuthError as a TesseraError. */
  async function call<D, V, K extends keyof D & string>(document: TadaDocumentNode<D, V>, field: K, variables?: V): Promise<Result<Payload<D, K>>> {
    const response = await request(document, variables);
    if (!response.ok) return response;
    const payload = response.data[field] as {
      __typename?: string; code?: string; message?: string; sessionToken?: string | null; deviceToken?: string | null; authState?: AuthState;
    } | null;
    if (!payload) return { ok: false, error: { code: 'GRAPHQL_ERROR', message: `No ${field} in the answer` } };
    if (payload.__typename === 'AuthError') {
      const error = payload as TesseraError;
      if (error.code === 'REAUTHENTICATION_REQUIRED') dispatch({ type: 'ReauthenticationRequired' });
      if (error.code === 'NOT_AUTHENTICATED' && status.kind !== 'anonymous') sessionEnded();
      return { ok: false, error: { code: error.code, message: error.message, field: error.field ?? null, retryAfterSeconds: error.retryAfterSeconds ?? null } };
    }
    if (typeof payload.deviceToken === 'string') setDeviceToken(payload.deviceToken);
    if (typeof payload.sessionToken === 'string') setToken(payload.sessionToken);
    if (payload.authState) dispatch({ type: 'AuthStateReceived', authState: payload.authState });
    return { ok: true, data: payload as Payload<D, K> };
  }

  function sessionEnded(): void {
    setToken(null);
    dispatch({ type: 'SessionEnded' });
  }

  const client = {
    mode,
    get token(): string | null { return token; },
    /** Token mode: this install's device token (sent as X-Tessera-Device), once the server has handed one out. */
    get deviceToken(): string | null { return deviceToken; },
    /** The machine's current state (see flow.ts). */
    getStatus: (): AuthStatus => status,
    getPendingFlow: (): PendingFlow | null => pendingFlowOf(status),
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** The person chose not to reauthenticate (a cancel button): the request is dropped. */
    abandonReauthentication: () => dispatch({ type: 'ReauthenticationAbandoned' }),
    request,

    // Queries
    async authState(): Promise<Result<AuthState>> {
      const response = await request(op.authStateQuery);
      if (!response.ok) return response;
      const authState = response.data.authState;
      // A token the server no longer knows is worth nothing: forget it rather than send it forever.
      if (!authState.isAuthenticated && !authState.flows.some((f) => f.isPending) && token) setToken(null);
      dispatch({ type: 'AuthStateReceived', authState });
      return { ok: true, data: authState };
    },
    async config() {
      const response = await request(op.configQuery);
      return response.ok ? { ok: true as const, data: response.data.config } : response;
    },
    /** The signed-in user with authenticators and sessions; NOT_AUTHENTICATED (and the machine told) when there is none. */
    async me(): Promise<Result<NonNullable<ResultOf<typeof op.meQuery>['me']>>> {
      const response = await request(op.meQuery);
      if (!response.ok) return response;
      if (!response.data.me) {
        if (status.kind === 'authenticated') sessionEnded();
        return { ok: false, error: { code: 'NOT_AUTHENTICATED', message: 'Not signed in' } };
      }
      return { ok: true, data: response.data.me };
    },
    recoveryCodes: () => call(op.recoveryCodesQuery, 'recoveryCodes'),
    /** Analysts at AAL2: series by HOUR, DAY or WEEK (ISO, from Monday) in a time zone (IANA name, default UTC). */
    sessionAnalytics: (range: { from: string; to: string; bucket?: 'HOUR' | 'DAY' | 'WEEK'; timeZone?: string }) =>
      call(op.sessionAnalyticsQuery, 'sessionAnalytics', { from: range.from, to: range.to, bucket: range.bucket ?? 'DAY', timeZone: range.timeZone ?? 'UTC' }),

    // Signup, login, logout
    signup: (email: string, password: string) => call(op.signupMutation, 'signup', { input: { email, password } }),
    login: (email: string, password: string) => call(op.loginMutation, 'login', { input: { email, password } }),
    async logout() {
      const result = await call(op.logoutMutation, 'logout');
      // Whatever the answer, this client holds no session afterwards.
      sessionEnded();
      return result;
    },
    authenticateMfa: (code: string) => call(op.authenticateMfaMutation, 'authenticateMfa', { input: { code } }),

    // Reauthentication
    reauthenticate: (password: string) => call(op.reauthenticateMutation, 'reauthenticate', { input: { password } }),
    mfaReauthenticate: (code: string) => call(op.mfaReauthenticateMutation, 'mfaReauthenticate', { input: { code } }),

    // TOTP and recovery codes
    setupTotp: () => call(op.setupTotpMutation, 'setupTotp'),
    activateTotp: (code: string) => call(op.activateTotpMutation, 'activateTotp', { input: { code } }),
    deactivateTotp: () => call(op.deactivateTotpMutation, 'deactivateTotp'),
    regenerateRecoveryCodes: () => call(op.regenerateRecoveryCodesMutation, 'regenerateRecoveryCodes'),

    // Email one-time codes (a login completed with one is AAL1)
    beginEmailCodeEnrollment: () => call(op.beginEmailCodeEnrollmentMutation, 'beginEmailCodeEnrollment'),
    activateEmailCode: (code: string) => call(op.activateEmailCodeMutation, 'activateEmailCode', { input: { code } }),
    removeEmailCode: () => call(op.removeEmailCodeMutation, 'removeEmailCode'),
    /** During mfa_authenticate: mails a code, which authenticateMfa(code) then takes. */
    requestEmailCode: () => call(op.requestEmailCodeMutation, 'requestEmailCode'),

    // Administrators (admin role, AAL2)
    users: (variables: { first?: number | null; after?: string | null; filter?: { role?: string | null; email?: string | null; withoutStrongFactor?: boolean | null } | null } = {}) =>
      call(op.usersQuery, 'users', variables),
    resetUserMfa: (userId: string, reason: string) => call(op.resetUserMfaMutation, 'resetUserMfa', { input: { userId, reason } }),
    revokeRole: (userId: string, role: string, reason?: string | null) => call(op.revokeRoleMutation, 'revokeRole', { input: { userId, role, reason: reason ?? null } }),
    requireMfa: (userId: string, deadline: Date | string, reason?: string | null) =>
      call(op.requireMfaMutation, 'requireMfa', { input: { userId, deadline: typeof deadline === 'string' ? deadline : deadline.toISOString(), reason: reason ?? null } }),
    liftMfaRequirement: (userId: string, reason?: string | null) => call(op.liftMfaRequirementMutation, 'liftMfaRequirement', { input: { userId, reason: reason ?? null } }),
    signOutUser: (userId: string, reason?: string | null) => call(op.signOutUserMutation, 'signOutUser', { input: { userId, reason: reason ?? null } }),

    // WebAuthn: the raw ceremony steps (see webauthn.ts for the browser side)
    beginWebAuthnRegistration: (passwordless: boolean) =>
      call(op.beginWebAuthnRegistrationMutation, 'beginWebAuthnRegistration', { input: { passwordless } }),
    registerWebAuthn: (name: string, credential: unknown) => call(op.registerWebAuthnMutation, 'registerWebAuthn', { input: { name, credential } }),
    renameWebAuthn: (id: string, name: string) => call(op.renameWebAuthnMutation, 'renameWebAuthn', { input: { id, name } }),
    removeWebAuthn: (ids: string[]) => call(op.removeWebAuthnMutation, 'removeWebAuthn', { input: { ids } }),
    beginWebAuthnAuthentication: (purpose: 'MFA' | 'PASSKEY_LOGIN' | 'REAUTHENTICATE') =>
      call(op.beginWebAuthnAuthenticationMutation, 'beginWebAuthnAuthentication', { input: { purpose } }),
    authenticateWebAuthn: (credential: unknown) => call(op.authenticateWebAuthnMutation, 'authenticateWebAuthn', { input: { credential } }),
    loginWithPasskey: (credential: unknown, ceremonyToken?: string | null) =>
      call(op.loginWithPasskeyMutation, 'loginWithPasskey', { input: { credential, ceremonyToken: ceremonyToken ?? null } }),
    beginPasskeySignup: (email: string) => call(op.beginPasskeySignupMutation, 'beginPasskeySignup', { input: { email } }),
    completePasskeySignup: (credential: unknown, options: { ceremonyToken?: string | null; name?: string | null } = {}) =>
      call(op.completePasskeySignupMutation, 'completePasskeySignup', {
        input: { credential, ceremonyToken: options.ceremonyToken ?? null, name: options.name ?? null },
      }),

    // Sessions and account
    async revokeSessions(ids: string[]) {
      const result = await call(op.revokeSessionsMutation, 'revokeSessions', { input: { ids } });
      const current = status.kind === 'authenticated' ? status.authState.session?.id : undefined;
      if (result.ok && current && result.data.revokedIds.includes(current)) sessionEnded();
      return result;
    },
    changePassword: (currentPassword: string, newPassword: string) =>
      call(op.changePasswordMutation, 'changePassword', { input: { currentPassword, newPassword } }),
    changeEmail: (email: string) => call(op.changeEmailMutation, 'changeEmail', { input: { email } }),

    // Devices (me().devices lists them; each session names its device)
    /** Answers the pending mfa_trust flow: trust this device (password logins from it skip the MFA step) or not. */
    async trustDevice(trust: boolean) {
      const result = await call(op.trustDeviceMutation, 'trustDevice', { input: { trust } });
      // Answered, or nothing left to answer: either way the question is no longer pending.
      if (result.ok || result.error.code === 'FLOW_NOT_PENDING' || result.error.code === 'FEATURE_DISABLED') dispatch({ type: 'TrustAnswered' });
      return result;
    },
    revokeDeviceTrust: (ids: string[]) => call(op.revokeDeviceTrustMutation, 'revokeDeviceTrust', { input: { ids } }),
    /** Ends every session of the account, this one included, and the trust of every device. */
    async signOutEverywhere() {
      const result = await call(op.signOutEverywhereMutation, 'signOutEverywhere');
      if (result.ok) sessionEnded();
      return result;
    },
    async deleteAccount() {
      const result = await call(op.deleteAccountMutation, 'deleteAccount');
      if (result.ok) sessionEnded();
      return result;
    },

    // Account recovery
    /** Mails a code and a link if the address has an account; answers with the password_reset_by_code flow either way. */
    requestPasswordReset: (email: string) => call(op.requestPasswordResetMutation, 'requestPasswordReset', { input: { email } }),
    /** With the code (and the address, or inside the pending flow) or the link's key. Signs nobody in. */
    async resetPassword(input: { email?: string | null; code?: string | null; key?: string | null; newPassword: string }) {
      const result = await call(op.resetPasswordMutation, 'resetPassword', {
        input: { email: input.email ?? null, code: input.code ?? null, key: input.key ?? null, newPassword: input.newPassword },
      });
      if (result.ok) sessionEnded();
      return result;
    },
    /** The code of the verify_email flow (may sign in, under mandatory verification) or of a pending email change. */
    verifyEmail: (code: string) => call(op.verifyEmailMutation, 'verifyEmail', { input: { code } }),
    resendEmailVerification: () => call(op.resendEmailVerificationMutation, 'resendEmailVerification'),
    /** "This wasn't me": the key from a security notice's link. Every session of the account ends, this one too. */
    async reportCompromise(key: string) {
      const result = await call(op.reportCompromiseMutation, 'reportCompromise', { input: { key } });
      if (result.ok && status.kind === 'authenticated') sessionEnded();
      return result;
    },
  };
  return client;
}

export type { VariablesOf };
