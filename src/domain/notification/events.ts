import type { DomainEvent } from '../shared/decider.js';

export type SecurityNotificationKind =
  | 'factor_added' | 'factor_removed' | 'recovery_codes_regenerated' | 'password_changed' | 'email_changed' | 'account_locked' | 'new_device';

/** One stream per notification (`notification-<id>`), so requesting one never races another writer's version. */
export type SecurityNotificationRequested = DomainEvent<'SecurityNotificationRequested', {
  notificationId: string; userId: string; kind: SecurityNotificationKind; causeType: string; causePosition: number; at: string;
}>;

export type NotificationEvent = SecurityNotificationRequested;

export const notificationEventTypes = ['SecurityNotificationRequested'] as const satisfies readonly NotificationEvent['type'][];
