// MFA for privileged users: an admin must have a second factor within a grace period of registration or promotion.
import type { UserState } from './state.js';

export const rolesRequiringMfa = ['admin'] as const;

export interface MfaRequirement {
  /** When the user must have a factor by; null when no factor is required or one exists. */
  deadline: Date | null;
  /** Past the deadline without a factor: the session may only set one up (flow MFA_ENROLL_REQUIRED). */
  enrollOnly: boolean;
}

export function mfaRequirement(user: UserState, hasSecondFactor: boolean, now: Date, graceSeconds: number): MfaRequirement {
  const privileged = rolesRequiringMfa.filter((role) => user.roles.includes(role));
  if (privileged.length === 0 || hasSecondFactor) return { deadline: null, enrollOnly: false };
  const since = Math.max(
    new Date(user.createdAt!).getTime(),
    ...privileged.map((role) => new Date(user.roleGrantedAt[role] ?? user.createdAt!).getTime()),
  );
  const deadline = new Date(since + graceSeconds * 1000);
  return { deadline, enrollOnly: now.getTime() >= deadline.getTime() };
}
