// The pending-flow state machine: what the person in front of the client has to do next. It is fed by the server's
// authState (every auth payload carries one) and by two error codes that change what is pending without one:
// REAUTHENTICATION_REQUIRED (a sensitive change wants a fresh proof) and NOT_AUTHENTICATED (the session ended under
// us: revoked, expired, logged out elsewhere). Pure: `transition` is the whole machine, the client only holds it.
// `mfa_trust` ("trust this device?", asked after an MFA step when the server runs with MFA_TRUST_ENABLED) never
// blocks: the session is already signed in, so it is an offer held beside the authenticated status, not a step.
import type { ResultOf } from './graphql.js';
import type { AuthStateFields } from './operations.js';

export type AuthState = ResultOf<typeof AuthStateFields>;
export type ServerFlowId = AuthState['flows'][number]['id'];
export type AuthenticatorType = NonNullable<AuthState['flows'][number]['types']>[number];

/** allauth's spelling of the flow ids, which frontends written against allauth already switch on. */
export type FlowId =
  | 'login' | 'signup' | 'mfa_authenticate' | 'reauthenticate' | 'mfa_reauthenticate'
  | 'mfa_login_webauthn' | 'mfa_signup_webauthn' | 'mfa_trust' | 'mfa_enroll_required'
  // Account recovery (issue 17): a code was mailed; the flow waits for it (verifyEmail, resetPassword).
  | 'verify_email' | 'password_reset_by_code';

export function flowIdOf(id: ServerFlowId): FlowId {
  return id.toLowerCase() as FlowId;
}

export interface PendingFlow {
  id: FlowId;
  /** The factors that can complete it (TOTP, RECOVERY_CODES, WEBAUTHN); null when any step of the flow will do. */
  types: AuthenticatorType[] | null;
  expiresAt: string | null;
}

export type AuthStatus =
  | { kind: 'unknown' }
  | { kind: 'anonymous'; authState: AuthState | null }
  | { kind: 'pending'; flow: PendingFlow; authState: AuthState }
  | {
    kind: 'authenticated';
    authState: AuthState;
    reauthentication: PendingFlow | null;
    /** "Trust this device?" (mfa_trust), pending until answered (trustDevice) or the next authState without it. */
    trust: PendingFlow | null;
  };

export type AuthEvent =
  | { type: 'AuthStateReceived'; authState: AuthState }
  | { type: 'ReauthenticationRequired' }
  | { type: 'SessionEnded' }
  | { type: 'ReauthenticationAbandoned' }
  | { type: 'TrustAnswered' };

export const initialStatus: AuthStatus = { kind: 'unknown' };

export function transition(status: AuthStatus, event: AuthEvent): AuthStatus {
  switch (event.type) {
    case 'AuthStateReceived': {
      const { authState } = event;
      const pending = authState.flows.find((flow) => flow.isPending && flow.id !== 'MFA_TRUST');
      if (pending) return { kind: 'pending', flow: toPendingFlow(pending), authState };
      if (!authState.isAuthenticated) return { kind: 'anonymous', authState };
      const trust = authState.flows.find((flow) => flow.isPending && flow.id === 'MFA_TRUST');
      // A fresh authState after a reauthentication clears the request; any other keeps it until it is satisfied.
      return { kind: 'authenticated', authState, reauthentication: null, trust: trust ? toPendingFlow(trust) : null };
    }
    case 'ReauthenticationRequired': {
      if (status.kind !== 'authenticated') return status;
      const mfa = status.authState.flows.find((flow) => flow.id === 'MFA_REAUTHENTICATE');
      // The password, or a second factor when the account has one (allauth offers both under `reauthenticate`).
      return { ...status, reauthentication: { id: 'reauthenticate', types: mfa?.types ?? null, expiresAt: null } };
    }
    case 'ReauthenticationAbandoned':
      return status.kind === 'authenticated' ? { ...status, reauthentication: null } : status;
    case 'TrustAnswered':
      return status.kind === 'authenticated' && status.trust ? { ...status, trust: null } : status;
    case 'SessionEnded':
      return { kind: 'anonymous', authState: null };
    default:
      return assertNever(event);
  }
}

/**
 * The flow waiting on the person, if any: a login's next step, an enrolment the server insists on, a reauthentication,
 * or (signed in, and only when nothing else waits) the "trust this device?" question.
 */
export function pendingFlowOf(status: AuthStatus): PendingFlow | null {
  if (status.kind === 'pending') return status.flow;
  if (status.kind === 'authenticated') return status.reauthentication ?? status.trust;
  return null;
}

function toPendingFlow(flow: AuthState['flows'][number]): PendingFlow {
  return { id: flowIdOf(flow.id), types: flow.types ?? null, expiresAt: flow.expiresAt ?? null };
}

function assertNever(value: never): never {
  throw new Error(`unhandled auth event ${JSON.stringify(value)}`);
}
