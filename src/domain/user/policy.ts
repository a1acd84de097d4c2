// MFA policy (django-two-factor-auth's otp_required, Keycloak's required actions): a user must have a strong second
// factor (TOTP or WebAuthn; an email code never counts) within a grace period when they hold a role of
// MFA_REQUIRED_ROLES (the period runs from registration or the latest promotion), or by the deadline an administrator
// set for them (requireMfa). Past the earlier deadline without one, a session is limited to enrolling a factor.
import type { UserState } from './state.js';

export interface MfaPolicy {
  /** MFA_REQUIRED_ROLES. */
  requiredRoles: readonly string[];
  /** ADMIN_MFA_GRACE_SECONDS: how long a holder of a required role may sign in without a factor. */
  graceSeconds: number;
}

export interface MfaRequirement {
  /** When the user must have a factor by; null when no factor is required or one exists. */
  deadline: Date | null;
  /** Past the deadline without a factor: the session may only set one up (flow MFA_ENROLL_REQUIRED). */
  enrollOnly: boolean;
}

/** The policy of a server's configuration. */
export function mfaPolicyOf(config: { mfaRequiredRoles: readonly string[]; adminMfaGraceSeconds: number }): MfaPolicy {
  return { requiredRoles: config.mfaRequiredRoles, graceSeconds: config.adminMfaGraceSeconds };
}

/** Roles of `roles` that require a second factor under the policy. */
export function requiredRolesHeld(roles: readonly string[], policy: MfaPolicy): string[] {
  return policy.requiredRoles.filter((role) => roles.includes(role));
}

/**
 * Whether the user must keep a strong second factor at all (by role or by an administrator's requirement): such a user
 * cannot remove their last one. Cheap enough to ask on every request from the session row alone.
 */
export function isMfaRequired(user: Pick<UserState, 'roles' | 'mfaRequiredBy'>, policy: MfaPolicy): boolean {
  return user.mfaRequiredBy !== null || requiredRolesHeld(user.roles, policy).length > 0;
}

/** The earliest deadline among the role's grace period and the administrator's requirement; null: none applies. */
export function mfaDeadline(user: UserState, policy: MfaPolicy): Date | null {
  const deadlines: number[] = [];
  const privileged = requiredRolesHeld(user.roles, policy);
  if (privileged.length > 0) {
    const since = Math.max(
      new Date(user.createdAt!).getTime(),
      ...privileged.map((role) => new Date(user.roleGrantedAt[role] ?? user.createdAt!).getTime()),
    );
    deadlines.push(since + policy.graceSeconds * 1000);
  }
  if (user.mfaRequiredBy !== null) deadlines.push(new Date(user.mfaRequiredBy).getTime());
  return deadlines.length === 0 ? null : new Date(Math.min(...deadlines));
}

/** `hasStrongFactor`: TOTP or a WebAuthn key (domain/authenticators/state.ts hasStrongSecondFactor). */
export function mfaRequirement(user: UserState, hasStrongFactor: boolean, now: Date, policy: MfaPolicy): MfaRequirement {
  if (hasStrongFactor) return { deadline: null, enrollOnly: false };
  const deadline = mfaDeadline(user, policy);
  if (deadline === null) return { deadline: null, enrollOnly: false };
  return { deadline, enrollOnly: now.getTime() >= deadline.getTime() };
}
