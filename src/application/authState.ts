// What a frontend needs to draw the next screen (allauth's session response): who is signed in, at what level, and
// which flows are open or pending. Transport-neutral: GraphQL's authState and the REST session endpoint map it.
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { availableFactorTypes, hasStrongSecondFactor, type AuthenticatorType } from '../domain/authenticators/state.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { mfaPolicyOf, mfaRequirement } from '../domain/user/policy.js';
import type { Caller, SessionView, UserView } from './caller.js';
import { load } from './commandHandler.js';
import type { Deps } from './deps.js';

export const flowIds = [
  'LOGIN', 'SIGNUP', 'MFA_AUTHENTICATE', 'REAUTHENTICATE', 'MFA_REAUTHENTICATE', 'MFA_LOGIN_WEBAUTHN', 'MFA_SIGNUP_WEBAUTHN', 'MFA_TRUST', 'MFA_ENROLL_REQUIRED',
  'VERIFY_EMAIL', 'PASSWORD_RESET_BY_CODE',
] as const;

export type FlowId = (typeof flowIds)[number];

export interface Flow {
  id: FlowId;
  isPending: boolean;
  types: AuthenticatorType[] | null;
  expiresAt?: Date | null;
}

export interface AuthState {
  isAuthenticated: boolean;
  user: UserView | null;
  session: SessionView | null;
  flows: Flow[];
  /** For a privileged user without a second factor: when logins become limited to setting one up. */
  mfaEnrollmentDeadline: Date | null;
}

type AuthStateDeps = Pick<Deps, 'store' | 'clock' | 'config'>;

function anonymousFlows(deps: AuthStateDeps): Flow[] {
  const flows: Flow[] = [{ id: 'LOGIN', isPending: false, types: null }, { id: 'SIGNUP', isPending: false, types: null }];
  if (deps.config.passkeyLoginEnabled) flows.push({ id: 'MFA_LOGIN_WEBAUTHN', isPending: false, types: null });
  if (deps.config.passkeySignupEnabled) flows.push({ id: 'MFA_SIGNUP_WEBAUTHN', isPending: false, types: null });
  return flows;
}

export async function authStateOf(deps: AuthStateDeps, caller: Caller): Promise<AuthState> {
  const { config } = deps;
  if (caller.kind === 'pending') {
    const expired = deps.clock.now() >= caller.flow.expiresAt;
    return {
      isAuthenticated: false, user: null, session: null, mfaEnrollmentDeadline: null,
      flows: expired ? anonymousFlows(deps) : [{ id: 'MFA_AUTHENTICATE', isPending: true, types: caller.flow.types as AuthenticatorType[], expiresAt: caller.flow.expiresAt }],
    };
  }
  if (caller.kind === 'flow') {
    // The same answer whether or not the flow's subject is an account: nothing here may tell them apart.
    const id: FlowId = caller.flow.flow === 'verify_email' ? 'VERIFY_EMAIL' : 'PASSWORD_RESET_BY_CODE';
    return {
      isAuthenticated: false, user: null, session: null, mfaEnrollmentDeadline: null,
      flows: [...anonymousFlows(deps), { id, isPending: true, types: null, expiresAt: caller.flow.expiresAt }],
    };
  }
  if (caller.kind === 'anonymous') return { isAuthenticated: false, user: null, session: null, flows: anonymousFlows(deps), mfaEnrollmentDeadline: null };
  const [{ state: authenticators }, { state: user }] = await Promise.all([
    load(deps.store, authenticatorsAggregate, caller.user.id),
    load(deps.store, userAggregate, caller.user.id),
  ]);
  const requirement = mfaRequirement(user, hasStrongSecondFactor(authenticators), deps.clock.now(), mfaPolicyOf(config));
  const flows: Flow[] = caller.session.enrollOnly
    ? [{ id: 'MFA_ENROLL_REQUIRED', isPending: true, types: config.mfaSupportedTypes.filter((t) => t !== 'recovery_codes').map((t) => t.toUpperCase() as AuthenticatorType) }]
    : [{ id: 'REAUTHENTICATE', isPending: false, types: null }];
  // Step-up takes the factors that give AAL2: an email code never does.
  const types = availableFactorTypes(authenticators).filter((t) => t !== 'EMAIL');
  if (!caller.session.enrollOnly && types.length > 0) flows.push({ id: 'MFA_REAUTHENTICATE', isPending: false, types });
  // Asked once after the MFA step when device trust is on: answered with trustDevice, and it never blocks.
  if (config.mfaTrust.enabled && caller.session.trustPending) flows.push({ id: 'MFA_TRUST', isPending: true, types: null });
  return { isAuthenticated: !caller.session.enrollOnly, user: caller.user, session: caller.session, flows, mfaEnrollmentDeadline: requirement.deadline };
}
