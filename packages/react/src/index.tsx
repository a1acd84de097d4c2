// <TesseraProvider> and useAuth(): the client's state machine as React state, and every operation as a function that
// resolves to a flat outcome (`{ ok, error, ...data }`), so `const { totp_url, secret } = await setupTotp()` reads
// the way allauth's examples do and an expected failure is still data, never a throw.
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import {
  authenticateWebAuthn as authenticateWebAuthnCeremony,
  createTesseraClient,
  loginWithPasskey as loginWithPasskeyCeremony,
  pendingFlowOf,
  registerWebAuthn as registerWebAuthnCeremony,
  type AuthStatus,
  type PendingFlow,
  type TesseraClient,
  type TesseraError,
  type WebAuthnError,
} from '@tessera/client';

export type Outcome<T extends object = object, E = TesseraError> =
  | ({ ok: true; error: null } & T)
  | ({ ok: false; error: E } & { [K in keyof T]?: undefined });

type Me = Extract<Awaited<ReturnType<TesseraClient['me']>>, { ok: true }>['data'];
/** What the server offers (allauth's GET /config): factor types, passkey login and signup. */
export type TesseraConfig = Extract<Awaited<ReturnType<TesseraClient['config']>>, { ok: true }>['data'];
export type Authenticator = Me['authenticators'][number];
export type SessionInfo = Me['sessions'][number];
export type DeviceInfo = Me['devices'][number];

/**
 * The pending flow, read live: `pendingFlow.id` is the flow waiting now (allauth's spelling, e.g. `mfa_authenticate`),
 * or undefined when none is. It stays current after an `await`, so code that destructures `useAuth()` first and
 * awaits `login()` later still sees the flow the login opened.
 */
export interface LivePendingFlow {
  readonly id: PendingFlow['id'] | undefined;
  readonly types: PendingFlow['types'] | undefined;
  readonly expiresAt: string | null | undefined;
  /** A plain copy of the flow as it is now, or null. */
  current(): PendingFlow | null;
}

interface TesseraContextValue {
  client: TesseraClient;
  config: TesseraConfig | null;
  me: Me | null;
  refreshMe(): Promise<void>;
}

const TesseraContext = createContext<TesseraContextValue | null>(null);

export interface TesseraProviderProps {
  /** A client of your own (token mode in React Native, another URL), or one is made: cookie mode on `/graphql`. */
  client?: TesseraClient;
  url?: string;
  children?: ReactNode;
}

export function TesseraProvider(props: TesseraProviderProps) {
  const [client] = useState(() => props.client ?? createTesseraClient({ url: props.url ?? '/graphql' }));
  const status = useSyncExternalStore(client.subscribe, client.getStatus, client.getStatus);
  const [me, setMe] = useState<Me | null>(null);
  const [config, setConfig] = useState<TesseraConfig | null>(null);
  useEffect(() => {
    void client.config().then((result) => { if (result.ok) setConfig(result.data); });
  }, [client]);
  // Answers can come back out of order (a page's refresh on mount and the refresh after a mutation run side by side):
  // only the latest request's answer is kept, so an answer read before a change never overwrites one read after it.
  const latestMe = useRef(0);
  const refreshMe = useCallback(async () => {
    const request = ++latestMe.current;
    const result = await client.me();
    if (request === latestMe.current) setMe(result.ok ? result.data : null);
  }, [client]);
  useEffect(() => {
    if (client.getStatus().kind === 'unknown') void client.authState();
  }, [client]);
  const sessionId = status.kind === 'authenticated' ? status.authState.session?.id : undefined;
  useEffect(() => {
    if (sessionId) void refreshMe();
    else {
      latestMe.current++; // an answer still on its way belongs to the session that ended
      setMe(null);
    }
  }, [sessionId, refreshMe]);
  const value = useMemo(() => ({ client, config, me, refreshMe }), [client, config, me, refreshMe]);
  return createElement(TesseraContext.Provider, { value }, props.children);
}

export function useTesseraClient(): TesseraClient {
  const context = useContext(TesseraContext);
  if (!context) throw new Error('useAuth() and useTesseraClient() need a <TesseraProvider> above them');
  return context.client;
}

function flat<T extends object, E = TesseraError>(result: { ok: true; data: T } | { ok: false; error: E }): Outcome<T, E> {
  return result.ok ? ({ ok: true, error: null, ...result.data } as Outcome<T, E>) : ({ ok: false, error: result.error } as Outcome<T, E>);
}

export function useAuth() {
  const context = useContext(TesseraContext);
  if (!context) throw new Error('useAuth() needs a <TesseraProvider> above it');
  const { client, config, me, refreshMe } = context;
  const status: AuthStatus = useSyncExternalStore(client.subscribe, client.getStatus, client.getStatus);

  return useMemo(() => {
    const pendingFlow: LivePendingFlow = {
      get id() { return client.getPendingFlow()?.id; },
      get types() { return client.getPendingFlow()?.types; },
      get expiresAt() { return client.getPendingFlow()?.expiresAt; },
      current: () => client.getPendingFlow(),
    };
    /** Runs an operation that changes factors or sessions, then reloads `authenticators` and `sessions`. */
    async function thenRefresh<R extends { ok: boolean }>(promise: Promise<R>): Promise<R> {
      const result = await promise;
      if (result.ok && client.getStatus().kind === 'authenticated') await refreshMe();
      return result;
    }
    const authState = status.kind === 'pending' || status.kind === 'authenticated' || status.kind === 'anonymous' ? status.authState : null;
    const withFlow = <T extends object>(result: { ok: true; data: T } | { ok: false; error: TesseraError }) =>
      flat(result.ok ? { ok: true as const, data: { ...result.data, pendingFlow: client.getPendingFlow() } } : result);
    return {
      client,
      status,
      /** Still asking the server who we are (first render). */
      isLoading: status.kind === 'unknown',
      isAuthenticated: status.kind === 'authenticated',
      /** The server's offer (null until loaded): `config.mfa.supportedTypes`, `passkeyLoginEnabled`, … */
      config,
      user: authState?.user ?? null,
      session: authState?.session ?? null,
      pendingFlow,
      /** The pending flow as a plain value for rendering (null when none). */
      flow: pendingFlowOf(status),
      authenticators: me?.authenticators ?? [],
      sessions: me?.sessions ?? [],
      /** The devices a login of this account completed on (name, trusted, trustedUntil, first and last seen, current). */
      devices: me?.devices ?? [],
      /** Reloads the auth state and the user's authenticators, sessions and devices. */
      refresh: async () => { await client.authState(); await refreshMe(); },

      signup: async (email: string, password: string) => withFlow(await client.signup(email, password)),
      login: async (email: string, password: string) => withFlow(await client.login(email, password)),
      logout: async () => flat(await client.logout()),
      authenticateMfa: async (code: string) => withFlow(await client.authenticateMfa(code)),
      reauthenticate: async (password: string) => withFlow(await client.reauthenticate(password)),
      mfaReauthenticate: async (code: string) => withFlow(await client.mfaReauthenticate(code)),
      abandonReauthentication: () => client.abandonReauthentication(),

      /** `{ totp_url, secret, qrCodeSvg }` (and `totpUrl`): show the QR code and the secret, then `activateTotp(code)`. */
      setupTotp: async () => {
        const result = await client.setupTotp();
        return flat(result.ok ? { ok: true as const, data: { totp_url: result.data.totpUrl, totpUrl: result.data.totpUrl, secret: result.data.secret, qrCodeSvg: result.data.qrCodeSvg } } : result);
      },
      /** `recoveryCodes` is set when this was the first factor: show them once. */
      activateTotp: async (code: string) => flat(await thenRefresh(client.activateTotp(code))),
      deactivateTotp: async () => flat(await thenRefresh(client.deactivateTotp())),
      /** The unused recovery codes (needs a recent reauthentication). */
      recoveryCodes: async () => flat(await client.recoveryCodes()),
      regenerateRecoveryCodes: async () => flat(await thenRefresh(client.regenerateRecoveryCodes())),

      /** Mails a code to the account's address: `{ expiresAt, resendAfterSeconds }`; then `activateEmailCode(code)`. */
      beginEmailCodeEnrollment: async () => flat(await client.beginEmailCodeEnrollment()),
      activateEmailCode: async (code: string) => flat(await thenRefresh(client.activateEmailCode(code))),
      removeEmailCode: async () => flat(await thenRefresh(client.removeEmailCode())),
      /** During `mfa_authenticate` with type EMAIL: mails a code, then `authenticateMfa(code)`. The session will be AAL1. */
      requestEmailCode: async () => flat(await client.requestEmailCode()),

      /** Administrators (admin role, AAL2). */
      users: async (variables: Parameters<typeof client.users>[0] = {}) => flat(await client.users(variables)),
      resetUserMfa: async (userId: string, reason: string) => flat(await client.resetUserMfa(userId, reason)),
      revokeRole: async (userId: string, role: string, reason?: string | null) => flat(await client.revokeRole(userId, role, reason)),
      requireMfa: async (userId: string, deadline: Date | string, reason?: string | null) => flat(await client.requireMfa(userId, deadline, reason)),
      liftMfaRequirement: async (userId: string, reason?: string | null) => flat(await client.liftMfaRequirement(userId, reason)),
      signOutUser: async (userId: string, reason?: string | null) => flat(await client.signOutUser(userId, reason)),

      registerWebAuthn: async (options: { name: string; passwordless: boolean }) =>
        flat<{ recoveryCodes?: string[] | null }, TesseraError | WebAuthnError>(await thenRefresh(registerWebAuthnCeremony(client, options))),
      authenticateWebAuthn: async (purpose: 'MFA' | 'REAUTHENTICATE' = 'MFA') => {
        const result = await authenticateWebAuthnCeremony(client, purpose);
        return flat<{ pendingFlow: PendingFlow | null }, TesseraError | WebAuthnError>(result.ok ? { ok: true, data: { pendingFlow: client.getPendingFlow() } } : result);
      },
      loginWithPasskey: async (options: { autofill?: boolean } = {}) => {
        const result = await loginWithPasskeyCeremony(client, options);
        return flat<{ pendingFlow: PendingFlow | null }, TesseraError | WebAuthnError>(result.ok ? { ok: true, data: { pendingFlow: client.getPendingFlow() } } : result);
      },
      renameWebAuthn: async (id: string, name: string) => flat(await thenRefresh(client.renameWebAuthn(id, name))),
      removeWebAuthn: async (ids: string[]) => flat(await thenRefresh(client.removeWebAuthn(ids))),

      revokeSessions: async (ids: string[]) => flat(await thenRefresh(client.revokeSessions(ids))),
      changePassword: async (currentPassword: string, newPassword: string) => flat(await thenRefresh(client.changePassword(currentPassword, newPassword))),
      changeEmail: async (email: string) => flat(await thenRefresh(client.changeEmail(email))),

      /** Answers `pendingFlow.id === 'mfa_trust'` ("trust this device?"): `{ trusted }`. It never blocks: not answering is fine. */
      trustDevice: async (trust: boolean) => flat(await thenRefresh(client.trustDevice(trust))),
      revokeDeviceTrust: async (ids: string[]) => flat(await thenRefresh(client.revokeDeviceTrust(ids))),
      /** Ends every session (this one too) and all device trust: `{ endedSessionCount }`, and the user is signed out. */
      signOutEverywhere: async () => flat(await client.signOutEverywhere()),

      // Account recovery (issue 17): pendingFlow.id 'password_reset_by_code' or 'verify_email' while a mailed code is awaited.
      requestPasswordReset: async (email: string) => flat(await client.requestPasswordReset(email)),
      resetPassword: async (input: { email?: string | null; code?: string | null; key?: string | null; newPassword: string }) =>
        flat(await client.resetPassword(input)),
      verifyEmail: async (code: string) => flat(await thenRefresh(client.verifyEmail(code))),
      resendEmailVerification: async () => flat(await client.resendEmailVerification()),
      reportCompromise: async (key: string) => flat(await client.reportCompromise(key)),
      /** Analysts at AAL2: `{ series, lag, … }` for a range, bucket (HOUR, DAY, WEEK) and time zone. */
      sessionAnalytics: async (range: Parameters<TesseraClient['sessionAnalytics']>[0]) => flat(await client.sessionAnalytics(range)),
    };
  }, [client, config, status, me, refreshMe]);
}

export type UseAuth = ReturnType<typeof useAuth>;
