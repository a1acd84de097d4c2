import type { DomainEvent } from '../shared/decider.js';

export type SecurityNotificationKind =
  | 'factor_added' | 'factor_removed' | 'recovery_codes_regenerated' | 'password_changed' | 'email_changed' | 'account_locked' | 'new_device'
  // an administrator's actions (issue 18)
  | 'email_code'
  | 'mfa_reset' | 'role_revoked' | 'mfa_required' | 'mfa_requirement_lifted' | 'signed_out_by_admin'
  // Account recovery (issue 17): a reset done, and an email change waiting for the new address (told to the old one).
  | 'password_reset' | 'email_change_requested'
  // Mails that carry a code or a notice rather than news of a change: no "this wasn't me" key.
  | 'password_reset_requested' | 'email_verification' | 'signup_attempted';

/** The kinds whose mail carries a "this wasn't me" link (issue 17): every notice of a change to the account's security. */
export const reportableKinds: readonly SecurityNotificationKind[] = [
  'factor_added', 'factor_removed', 'recovery_codes_regenerated', 'password_changed', 'email_changed', 'account_locked', 'new_device',
  'password_reset', 'email_change_requested',
];

/** One stream per notification (`notification-<id>`), so requesting one never races another writer's version. */
/**
 * `reportKeyHash`: the keyed hash of the notice's "this wasn't me" key (derived from the notification id and the server
 * key `keyId`, valid 24 hours, single use); absent for kinds that carry none and for notices from before issue 17.
 */
export type SecurityNotificationRequested = DomainEvent<'SecurityNotificationRequested', {
  notificationId: string; userId: string; kind: SecurityNotificationKind; causeType: string; causePosition: number; at: string;
  reportKeyHash?: string; keyId?: string;
}>;

/**
 * Every allowed delivery attempt failed: the user was not told. An event (not only a row state) because an auditor
 * must be able to see which security notices never reached their owner. Individual failed attempts are delivery
 * mechanics and stay on the outbox row (attempts, last_error). The failure is given by its SMTP codes only: the
 * server's message often quotes the recipient's address, which has no place in the log.
 */
export type SecurityNotificationDeadLettered = DomainEvent<'SecurityNotificationDeadLettered', {
  notificationId: string; userId: string; kind: SecurityNotificationKind; attempts: number;
  lastError: { code: string | null; responseCode: number | null }; at: string;
}>;

export type NotificationEvent = SecurityNotificationRequested | SecurityNotificationDeadLettered;

export const notificationEventTypes = ['SecurityNotificationRequested', 'SecurityNotificationDeadLettered'] as const satisfies readonly NotificationEvent['type'][];
