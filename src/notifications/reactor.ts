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
import { reportableKinds, type SecurityNotificationKind } from '../domain/notification/events.js';
import { deriveLinkSecret, recoveryHash } from '../crypto/recoveryTokens.js';
import { streams } from '../domain/shared/streams.js';
import { knownDeviceCount } from '../projections/devices.js';
import { liveSchema } from '../projections/projector.js';

export const notificationTriggers = [
  'PasswordChanged', 'EmailChanged', 'UserLocked', 'TotpActivated', 'TotpDeactivated', 'WebAuthnCredentialRegistered',
  'WebAuthnCredentialRemoved', 'RecoveryCodesGenerated', 'DeviceSeen',
  'MfaReset', 'RoleRevoked', 'MfaPolicyApplied', 'MfaPolicyLifted', 'UserSignedOut',
  'PasswordReset', 'PasswordResetRequested', 'EmailVerificationRequested', 'SignupAttempted',
] as const;

type NotificationApp = Pick<Deps, 'store' | 'clock' | 'secrets'>;

/** One mail an event asks for: its kind, and where it goes when not to the account's current address. */
interface MailRequest {
  kind: SecurityNotificationKind;
  /** Null: the account's address (from the users projection). */
  recipient: string | null;
  /** For the mail worker: the nonce and key id a code or link is derived from. */
  payload: Record<string, unknown> | null;
}

async function mailsOf(tx: Queryable, event: RecordedEvent): Promise<MailRequest[]> {
  const d = event.data as Record<string, unknown>;
  const notice = (kind: SecurityNotificationKind, recipient: string | null = null, payload: Record<string, unknown> | null = null): MailRequest[] => [{ kind, recipient, payload }];
  switch (event.type) {
    // A reset has its own notice (PasswordReset); a rehash is no news.
    case 'PasswordChanged': return d.reason === 'changed' ? notice('password_changed') : [];
    // A changed email is announced to the address it was taken from: that is who must learn of a takeover. An address
    // put back by "this wasn't me" is not announced to the one it replaced (whose holder could report it back).
    case 'EmailChanged': return d.reason === 'restored' ? [] : notice('email_changed', event.personal?.data.previousEmail ?? null);
    case 'UserLocked': return notice('account_locked');
    case 'TotpActivated': case 'WebAuthnCredentialRegistered': return notice('factor_added');
    case 'TotpDeactivated': case 'WebAuthnCredentialRemoved': return notice('factor_removed');
    case 'RecoveryCodesGenerated': {
      // The first set comes with the first factor, which has its own notice; later sets replace codes the user holds.
      const [row] = await tx.query<{ n: string }>(
        `select count(*)::text as n from events where stream_id = $1 and type = 'RecoveryCodesGenerated' and position < $2`,
        [event.streamId, event.position],
      );
      return Number(row?.n ?? 0) > 0 ? notice('recovery_codes_regenerated') : [];
    }
    case 'MfaReset': return notice('mfa_reset');
    case 'RoleRevoked': return notice('role_revoked');
    case 'MfaPolicyApplied': return notice('mfa_required');
    case 'MfaPolicyLifted': return notice('mfa_requirement_lifted');
    case 'UserSignedOut': return notice('signed_out_by_admin');
    case 'DeviceSeen':
      // A device became known to the account (a completed login there for the first time). The account's first
      // device is its signup, which is no news to anyone; the devices row of this event is already projected.
      return (await knownDeviceCount(tx, d.userId as string)) > 1 ? notice('new_device') : [];
    case 'PasswordReset': return d.via === 'code' || d.via === 'link' ? notice('password_reset') : [];
    case 'PasswordResetRequested': return notice('password_reset_requested', null, { nonce: d.nonce, keyId: d.keyId });
    case 'EmailVerificationRequested': {
      const code = { kind: 'email_verification' as const, recipient: d.newEmail ? event.personal?.data.newEmail ?? null : null, payload: { nonce: d.nonce, keyId: d.keyId } };
      // An email change: the code to the new address, and a notice (with its "this wasn't me" link) to the current one.
      return d.newEmail ? [code, { kind: 'email_change_requested', recipient: null, payload: null }] : [code];
    }
    case 'SignupAttempted': return notice('signup_attempted');
    default: return [];
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
      const mails = await mailsOf(tx, event);
      if (mails.length === 0) continue;
      // The rows hold envelopes (sealed under the user's key, opened by the worker to send), never a clear address: the
      // account's own from the users projection (read by the insert itself), or one the event names (the replaced or
      // the pending address).
      for (const mail of mails) {
        const notificationId = newId();
        const at = app.clock.now();
        // A notice of a change carries a "this wasn't me" key: derived from the notification id, only its hash stored.
        const keys = app.secrets.keys;
        const report = reportableKinds.includes(mail.kind)
          ? { reportKeyHash: recoveryHash(keys, 'compromise', compromiseKeyOf(keys, notificationId, keys.currentKeyId), keys.currentKeyId), keyId: keys.currentKeyId }
          : {};
        const requested = app.store.append(streams.notification(notificationId), [{
          type: 'SecurityNotificationRequested',
          data: { notificationId, userId, kind: mail.kind, causeType: event.type, causePosition: event.position, at: at.toISOString(), ...report },
        }], { expectedVersion: 0, metadata: {
            actor: 'system', causationId: String(event.position), correlationId: event.metadata.correlationId,
            ...(event.metadata.clientRequestId ? { clientRequestId: event.metadata.clientRequestId } : {}),
          }, now: at, tx });
        const payload = mail.payload || report.keyId ? { ...(mail.payload ?? {}), ...(report.keyId ? { reportKeyId: report.keyId } : {}) } : null;
        // The event and its outbox row go out together: one transaction, so neither exists without the other.
        const queued = tx.query(
          `insert into notification_outbox (notification_id, user_id, kind, recipient, created_at, payload)
           values ($1, $2, $3, coalesce($4::text, (select email from ${liveSchema}.users where user_id = $2)), $5, $6::text::jsonb)`,
          [notificationId, userId, mail.kind, mail.recipient ?? null, at.toISOString(), payload ? JSON.stringify(payload) : null],
        );
        await Promise.all([requested, queued]);
      }
    }
  };
}

/** The "this wasn't me" key of a notification, as its mail's link carries it: `<notificationId>.<secret>`. */
export function compromiseKeyOf(keys: Deps['secrets']['keys'], notificationId: string, keyId: string): string {
  return `${notificationId}.${deriveLinkSecret(keys, 'compromise', notificationId, keyId)}`;
}
