// Security notifications are requested inline: this reactor runs in the transaction of every append (after the
// projections), and for each triggering event writes a SecurityNotificationRequested event and its outbox row.
// Why a reactor in the transaction rather than a projector or an asynchronous subscriber: the request must be an
// event (events are the truth: an auditor sees that the user was told, and why), the outbox row must exist exactly
// when that event does (one transaction, so a crash can neither lose a notification nor deliver one whose cause rolled
// back), and a projector may only write its own tables, never append events.
import { createHash } from 'node:crypto';
import type { Deps } from '../application/deps.js';
import type { Queryable } from '../db/index.js';
import { newId } from '../crypto/tokens.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { SecurityNotificationKind } from '../domain/notification/events.js';
import { streams } from '../domain/shared/streams.js';
import { liveSchema } from '../projections/projector.js';

export const notificationTriggers = [
  'PasswordChanged', 'EmailChanged', 'UserLocked', 'TotpActivated', 'TotpDeactivated', 'WebAuthnCredentialRegistered',
  'WebAuthnCredentialRemoved', 'RecoveryCodesGenerated', 'SessionStarted',
] as const;

type NotificationApp = Pick<Deps, 'store' | 'clock'>;

/** The device a session comes from: the client's device id when it sends one, else its user agent. */
function deviceKey(event: RecordedEvent): string {
  const d = event.data as { deviceId?: string | null; userAgent?: string };
  return createHash('sha256').update(d.deviceId ?? `ua:${d.userAgent ?? ''}`).digest('hex').slice(0, 32);
}

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
    case 'SessionStarted': {
      const userId = d.userId as string;
      // One statement on the login path: both parts see the table as it was before the insert.
      const [row] = await tx.query<{ known: boolean; inserted: number }>(
        `with ins as (insert into known_devices (user_id, device_key, first_seen_at) values ($1, $2, $3) on conflict do nothing returning 1)
         select exists (select 1 from known_devices where user_id = $1) as known, (select count(*)::int from ins) as inserted`,
        [userId, deviceKey(event), d.at],
      );
      // The first session of an account (its signup) is not news to anyone.
      return row!.known && row!.inserted > 0 ? 'new_device' : null;
    }
    default: return null;
  }
}

export function createNotificationReactor(app: NotificationApp): (tx: Queryable, events: readonly RecordedEvent[]) => Promise<void> {
  return async (tx, events) => {
    for (const event of events) {
      if (!(notificationTriggers as readonly string[]).includes(event.type)) continue;
      const userId = (event.data as { userId?: string }).userId;
      if (!userId) continue;
      const kind = await kindOf(tx, event);
      if (!kind) continue;
      const notificationId = newId();
      const at = app.clock.now();
      const [user] = await tx.query<{ email: string }>(`select email from ${liveSchema}.users where user_id = $1`, [userId]);
      // A changed email is announced to the address it was taken from: that is who must learn of a takeover.
      const recipient = event.type === 'EmailChanged' ? String((event.data as { previousEmail: string }).previousEmail) : user?.email ?? null;
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
