// Security notifications are requested inline: this reactor runs in the transaction of every append (after the
// projections), and for each triggering event writes a SecurityNotificationRequested event and its outbox row.
// Why a reactor in the transaction rather than a projector or an asynchronous subscriber: the request must be an
// event (events are the truth: an auditor sees that the user was told, and why), the outbox row must exist exactly
// when that event does (one transaction, so a crash can neither lose a notification nor deliver one whose cause rolled
// back), and a projector may only write its own tables, never append events.
import type { Deps } from '../application/deps.js';
import type { Queryable } from '../db/index.js';
import { newId } from '../crypto/tokens.js';
import type { EventMetadata, NewEvent, ReactionPlanner, RecordedEvent, Statement } from '../eventstore/index.js';
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

/** Events that change or remove the account's address in the users projection. */
const addressChanges: ReadonlySet<string> = new Set(['UserRegistered', 'EmailChanged', 'UserDeleted', 'UserErased']);

/**
 * The mails an event asks for when the event alone tells; null when a read decides (mailsOf). `personal` (the envelopes
 * of an append's personal data) names the replaced or pending address; without it, only how many mails is known.
 */
function mailsFromEvent(event: { type: string; data: Record<string, unknown>; personal?: RecordedEvent['personal'] }): MailRequest[] | null {
  const d = event.data;
  const notice = (kind: SecurityNotificationKind, recipient: string | null = null, payload: Record<string, unknown> | null = null): MailRequest[] => [{ kind, recipient, payload }];
  switch (event.type) {
    // A reset has its own notice (PasswordReset); a rehash is no news.
    case 'PasswordChanged': return d.reason === 'changed' ? notice('password_changed') : [];
    // A changed email is announced to the address it was taken from: that is who must learn of a takeover. An address
    // put back by "this wasn't me" is not announced to the one it replaced (whose holder could report it back).
    // Without the event's envelope (no key to seal it under), whatever address the users projection holds.
    case 'EmailChanged': return d.reason === 'restored' ? [] : notice('email_changed', event.personal?.data.previousEmail ?? null);
    case 'UserLocked': return notice('account_locked');
    case 'TotpActivated': case 'WebAuthnCredentialRegistered': return notice('factor_added');
    case 'TotpDeactivated': case 'WebAuthnCredentialRemoved': return notice('factor_removed');
    case 'MfaReset': return notice('mfa_reset');
    case 'RoleRevoked': return notice('role_revoked');
    case 'MfaPolicyApplied': return notice('mfa_required');
    case 'MfaPolicyLifted': return notice('mfa_requirement_lifted');
    case 'UserSignedOut': return notice('signed_out_by_admin');
    case 'PasswordReset': return d.via === 'code' || d.via === 'link' ? notice('password_reset') : [];
    case 'PasswordResetRequested': return notice('password_reset_requested', null, { nonce: d.nonce, keyId: d.keyId });
    case 'EmailVerificationRequested': {
      const code = { kind: 'email_verification' as const, recipient: d.newEmail ? event.personal?.data.newEmail ?? null : null, payload: { nonce: d.nonce, keyId: d.keyId } };
      // An email change: the code to the new address, and a notice (with its "this wasn't me" link) to the current one.
      return d.newEmail ? [code, { kind: 'email_change_requested', recipient: null, payload: null }] : [code];
    }
    case 'SignupAttempted': return notice('signup_attempted');
    case 'RecoveryCodesGenerated': case 'DeviceSeen': return null;
    default: return [];
  }
}

async function mailsOf(tx: Queryable, event: RecordedEvent): Promise<MailRequest[]> {
  const told = mailsFromEvent(event);
  if (told) return told;
  switch (event.type) {
    case 'RecoveryCodesGenerated': {
      // The first set comes with the first factor, which has its own notice; later sets replace codes the user holds.
      const [row] = await tx.query<{ n: string }>(
        `select count(*)::text as n from events where stream_id = $1 and type = 'RecoveryCodesGenerated' and position < $2`,
        [event.streamId, event.position],
      );
      return Number(row?.n ?? 0) > 0 ? [{ kind: 'recovery_codes_regenerated', recipient: null, payload: null }] : [];
    }
    case 'DeviceSeen':
      // A device became known to the account (a completed login there for the first time). The account's first
      // device is its signup, which is no news to anyone; the devices row of this event is already projected.
      return (await knownDeviceCount(tx, event.data.userId as string)) > 1 ? [{ kind: 'new_device', recipient: null, payload: null }] : [];
    default: return [];
  }
}

/** The events that ask for mail, with their user (an administrator's MFA reset is one notice, not one per factor). */
function triggering<E extends { type: string; data: Record<string, unknown> }>(events: readonly E[]): Array<{ event: E; userId: string }> {
  const reset = new Set(events.filter((e) => e.type === 'MfaReset').map((e) => String(e.data.userId)));
  const out: Array<{ event: E; userId: string }> = [];
  for (const event of events) {
    if (!(notificationTriggers as readonly string[]).includes(event.type)) continue;
    const userId = event.data.userId;
    if (typeof userId !== 'string' || !userId) continue;
    if (reset.has(userId) && (event.type === 'TotpDeactivated' || event.type === 'WebAuthnCredentialRemoved')) continue;
    out.push({ event, userId });
  }
  return out;
}

/** A mail asked for: its SecurityNotificationRequested event (on a stream of its own) and its outbox row. */
interface NotificationRequest {
  append: { streamId: string; events: NewEvent[]; metadata: EventMetadata; recordedAt: Date };
  outbox: { notification_id: string; user_id: string; kind: string; recipient: string | null; created_at: string; payload: Record<string, unknown> | null };
}

function requestOf(app: NotificationApp, event: RecordedEvent, userId: string, mail: MailRequest): NotificationRequest {
  const notificationId = newId();
  const at = app.clock.now();
  // A notice of a change carries a "this wasn't me" key: derived from the notification id, only its hash stored.
  const keys = app.secrets.keys;
  const report = reportableKinds.includes(mail.kind)
    ? { reportKeyHash: recoveryHash(keys, 'compromise', compromiseKeyOf(keys, notificationId, keys.currentKeyId), keys.currentKeyId), keyId: keys.currentKeyId }
    : {};
  const payload = mail.payload || report.keyId ? { ...(mail.payload ?? {}), ...(report.keyId ? { reportKeyId: report.keyId } : {}) } : null;
  return {
    append: {
      streamId: streams.notification(notificationId),
      events: [{
        type: 'SecurityNotificationRequested',
        data: { notificationId, userId, kind: mail.kind, causeType: event.type, causePosition: event.position, at: at.toISOString(), ...report },
      }],
      metadata: {
        actor: 'system', causationId: String(event.position), correlationId: event.metadata.correlationId,
        ...(event.metadata.clientRequestId ? { clientRequestId: event.metadata.clientRequestId } : {}),
      },
      recordedAt: at,
    },
    outbox: { notification_id: notificationId, user_id: userId, kind: mail.kind, recipient: mail.recipient, created_at: at.toISOString(), payload },
  };
}

/**
 * The outbox rows of the requests, in one statement. The rows hold envelopes (sealed under the user's key, opened by
 * the worker to send), never a clear address: the account's own from the users projection (read by the insert itself,
 * as the database stood before the statement), or one the event names (the replaced or the pending address).
 */
function outboxInsert(requests: readonly NotificationRequest[]): Statement {
  return {
    text: `insert into notification_outbox (notification_id, user_id, kind, recipient, created_at, payload)
           select o.notification_id, o.user_id, o.kind, coalesce(o.recipient, (select u.email from ${liveSchema}.users u where u.user_id = o.user_id)), o.created_at, o.payload
             from jsonb_to_recordset($1::text::jsonb) as o(notification_id text, user_id text, kind text, recipient text, created_at timestamptz, payload jsonb)`,
    params: [JSON.stringify(requests.map((r) => r.outbox))],
  };
}

export function createNotificationReactor(app: NotificationApp): (tx: Queryable, events: readonly RecordedEvent[]) => Promise<void> {
  return async (tx, events) => {
    const requests: NotificationRequest[] = [];
    for (const { event, userId } of triggering(events)) {
      for (const mail of await mailsOf(tx, event)) requests.push(requestOf(app, event, userId, mail));
    }
    if (requests.length === 0) return;
    // The events and their outbox rows go out together: one transaction, so neither exists without the other.
    const queued = outboxInsert(requests);
    const requested = async (): Promise<void> => {
      for (const { append } of requests) await app.store.append(append.streamId, append.events, { expectedVersion: 0, metadata: append.metadata, now: append.recordedAt, tx });
    };
    await Promise.all([requested(), tx.query(queued.text, queued.params)]);
  };
}

/**
 * The same reactions planned ahead, for events whose mails need no read (ReactionPlanner): the requests' events and
 * outbox rows then go out in the append's own statement. Not when a mail goes to the account's address and the same
 * append changes that address (the insert would read the address as it was before the statement).
 */
export function createNotificationPlanner(app: NotificationApp): ReactionPlanner {
  return {
    count(events) {
      const mails = triggering(events).map(({ event }) => mailsFromEvent(event));
      if (mails.some((m) => m === null)) return null;
      const all = mails.flat() as MailRequest[];
      // A changed email's notice goes to the replaced address; read before the change, the account's address is that one.
      const toAccount = all.some((m) => m.recipient === null && m.kind !== 'email_changed');
      if (toAccount && events.some((e) => addressChanges.has(e.type))) return null;
      return all.length;
    },
    plan(events) {
      const requests = triggering(events).flatMap(({ event, userId }) => mailsFromEvent(event)!.map((mail) => requestOf(app, event, userId, mail)));
      return { appends: requests.map((r) => r.append), statements: requests.length > 0 ? [outboxInsert(requests)] : [] };
    },
  };
}

/** The "this wasn't me" key of a notification, as its mail's link carries it: `<notificationId>.<secret>`. */
export function compromiseKeyOf(keys: Deps['secrets']['keys'], notificationId: string, keyId: string): string {
  return `${notificationId}.${deriveLinkSecret(keys, 'compromise', notificationId, keyId)}`;
}
