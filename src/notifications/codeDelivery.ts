// Delivery of one-time codes (application/emailCodes.ts's CodeDelivery) through the notification outbox: inside the
// transaction that issued the code, a SecurityNotificationRequested event (kind 'email_code', no code in it) and its
// outbox row, which carries the code sealed under the server's secret keys; the worker opens it, sends the mail and
// clears the column. The code is never in an event, a projection or a log line.
//
// SMS later: write a CodeDelivery whose `send` queues to an SMS gateway (an outbox of its own, or this one with a
// `channel` column and a worker branch), read the number from where the account keeps it, and pick the delivery by
// factor in app.ts. The factor (events, decider, hashing, budget, expiry, single use) does not change.
import type { CodeDelivery, CodeMessage } from '../application/codeDelivery.js';
import type { Deps } from '../application/deps.js';
import { newId } from '../crypto/tokens.js';
import type { Queryable } from '../db/index.js';
import { streams } from '../domain/shared/streams.js';
import { liveSchema } from '../projections/projector.js';

/** The additional data a sealed code is bound to: it opens only for its own outbox row. */
export const codeAad = (notificationId: string): string => `email-code:${notificationId}`;

export function createEmailCodeDelivery(app: Pick<Deps, 'store' | 'clock' | 'secrets'>): CodeDelivery {
  return {
    channel: 'email',
    async send(tx: Queryable, message: CodeMessage): Promise<void> {
      const notificationId = newId();
      const at = app.clock.now();
      const [user] = await tx.query<{ email: string }>(`select email from ${liveSchema}.users where user_id = $1`, [message.userId]);
      await app.store.append(streams.notification(notificationId), [{
        type: 'SecurityNotificationRequested',
        data: { notificationId, userId: message.userId, kind: 'email_code', causeType: 'EmailCodeIssued', causePosition: message.causePosition, at: at.toISOString() },
      }], { expectedVersion: 0, metadata: { actor: 'system', causationId: String(message.causePosition), correlationId: message.correlationId }, now: at, tx });
      const sealed = app.secrets.box.seal(JSON.stringify({ code: message.code, expiresAt: message.expiresAt.toISOString(), purpose: message.purpose }), codeAad(notificationId));
      await tx.query(
        `insert into notification_outbox (notification_id, user_id, kind, recipient, created_at, secret_ciphertext) values ($1, $2, 'email_code', $3, $4, $5)`,
        [notificationId, message.userId, user?.email ?? null, at.toISOString(), sealed],
      );
    },
  };
}
