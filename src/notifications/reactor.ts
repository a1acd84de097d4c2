// Security notifications are requested inline: this reactor runs in the transaction of every append (after the
// projections), and for each triggering event writes a SecurityNotificationRequested event and its outbox row.
// Why a reactor in the transaction rather than a projector or an asynchronous subscriber: the request must be an
// event (events are the truth: an auditor sees that the user was told, and why), the outbox row must exist exactly
// when that event does (one transaction, so a crash can neither lose a notification nor deliver one whose cause rolled
// back), and a projector may only write its own tables, never append events.
import type { Deps } from '../application/deps.js';
import type { Queryable } from '../db/index.js';
import { newId } from '../crypto/tokens.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { SecurityNotificationKind } from '../domain/notification/events.js';
import { streams } from '../domain/shared/streams.js';
import { knownDeviceCount } from '../projections/devices.js';
import { liveSchema } from '../projections/projector.js';

export const notificationTriggers = [
  'PasswordChanged', 'EmailChanged', 'UserLocked', 'TotpActivated', 'TotpDeactivated', 'WebAuthnCredentialRegistered',
  'WebAuthnCredentialRemoved', 'RecoveryCodesGenerated', 'DeviceSeen',
  'MfaReset', 'RoleRevoked', 'MfaPolicyApplied', 'MfaPolicyLifted', 'UserSignedOut',
] as const;

type NotificationApp = Pick<Deps, 'store' | 'clock'>;

async function kindOf(tx: Queryable, event: RecordedEvent): Promise<SecurityNotificationKind | null> {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'PasswordChanged': return d.reason === 'changed' ? 'password_changed' : null;
    case 'EmailChanged': return 'email_changed';
    case 'UserLocked': return 'account_locked';
    case 'TotpActivated': case 'WebAuthnCredentialRegistered': return 'factor_added';
    case 'TotpDeactivated': case 'WebAuthnCredentialRemoved': return 'factor_removed';
    case 'RecoveryCodesGenerated': {
      // The first set comes with the first factor, which has its own notice; later sets replace codes the user holds.
      const [row] = await tx.query<{ n: string }>(
        `select count(*)::text as n from events where stream_id = $1 and type = 'RecoveryCodesGenerated' and position < $2`,
        [event.streamId, event.position],
      );
      return Number(row?.n ?? 0) > 0 ? 'recovery_codes_regenerated' : null;
    }
    case 'MfaReset': return 'mfa_reset';
    case 'RoleRevoked': return 'role_revoked';
    case 'MfaPolicyApplied': return 'mfa_required';
    case 'MfaPolicyLifted': return 'mfa_requirement_lifted';
    case 'UserSignedOut': return 'signed_out_by_admin';
    case 'DeviceSeen':
      // A device became known to the account (a completed login there for the first time). The account's first
      // device is its signup, which is no news to anyone; the devices row of this event is already projected.
      return (await knownDeviceCount(tx, d.userId as string)) > 1 ? 'new_device' : null;
    default: return null;
  }
}

export function createNotificationReactor(app: NotificationApp): (tx: Queryable, events: readonly RecordedEvent[]) => Promise<void> {
  return async (tx, events) => {
    // An administrator's MFA reset is one notice, not one per factor it removed.
    const reset = new Set(events.filter((e) => e.type === 'MfaReset').map((e) => (e.data as { userId: string }).userId));
    for (const event of events) {
      if (!(notificationTriggers as readonly string[]).includes(event.type)) continue;
      const userId = (event.data as { userId?: string }).userId;
      if (!userId) continue;
      if (reset.has(userId) && (event.type === 'TotpDeactivated' || event.type === 'WebAuthnCredentialRemoved')) continue;
      const kind = await kindOf(tx, event);
      if (!kind) continue;
      const notificationId = newId();
      const at = app.clock.now();
      const [user] = await tx.query<{ email: string | null }>(`select email from ${liveSchema}.users where user_id = $1`, [userId]);
      // A changed email is announced to the address it was taken from: that is who must learn of a takeover. Either
      // way the row holds the envelope the log stored (sealed under the user's key), opened by the worker to send.
      const recipient = event.type === 'EmailChanged' ? event.personal?.data.previousEmail ?? null : user?.email ?? null;
      await app.store.append(streams.notification(notificationId), [{
        type: 'SecurityNotificationRequested',
        data: { notificationId, userId, kind, causeType: event.type, causePosition: event.position, at: at.toISOString() },
      }], { expectedVersion: 0, metadata: { actor: 'system', causationId: String(event.position), correlationId: event.metadata.correlationId }, now: at, tx });
      await tx.query(
        `insert into notification_outbox (notification_id, user_id, kind, recipient, created_at) values ($1, $2, $3, $4, $5)`,
        [notificationId, userId, kind, recipient, at.toISOString()],
      );
    }
  };
}
