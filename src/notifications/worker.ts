// Delivers the notification outbox: at least once. Each row is claimed with `for update skip locked` in its own
// transaction, sent, and marked sent in that same transaction; a worker killed between sending and committing leaves
// the row unsent, so the next worker sends it again (a duplicate, never a loss). Several workers share the work.
// A send that fails is recorded in the same transaction, which then commits: the attempt count rises, the row waits out
// an exponential back-off, and after NOTIFICATION_MAX_ATTEMPTS it is dead-lettered (an event, and a log line at error).
// The claim takes only rows that are due, so one undeliverable notification never blocks the others.
import nodemailer, { type Transporter } from 'nodemailer';
import type { App } from '../app.js';
import type { Queryable } from '../db/index.js';
import type { SecurityNotificationDeadLettered, SecurityNotificationKind } from '../domain/notification/events.js';
import { streams } from '../domain/shared/streams.js';
import { codeAad } from './codeDelivery.js';
import { deriveCode, deriveLinkSecret } from '../crypto/recoveryTokens.js';
import { linkKeyOf } from '../application/passwordReset.js';
import { compromiseKeyOf } from './reactor.js';

export interface OutboxRow {
  id: string;
  notification_id: string;
  user_id: string;
  kind: string;
  recipient: string | null;
  created_at: Date | string;
  attempts: number;
  /** A one-time code's message, opened from the row's sealed column just before sending; never logged. */
  secret?: { code: string; expiresAt: string; purpose: string } | null;
  /** Derivation inputs for a code or link (issue 17): never the code or key itself. */
  payload?: { nonce?: string; keyId?: string; reportKeyId?: string } | null;
  [key: string]: unknown;
}

/**
 * Wait before attempt n + 1 after n failures: 1, 2, 4, … minutes, at most 6 hours. With the default of 8 attempts a
 * notification is retried for about two hours, long enough to ride out an SMTP outage or a full mailbox, short enough
 * that an operator learns of a dead letter while the event that caused it is still news.
 */
export function retryDelayMs(failures: number): number {
  return Math.min(60_000 * 2 ** (failures - 1), 6 * 3600_000);
}

const subjects: Record<string, string> = {
  factor_added: 'A sign-in method was added to your account',
  factor_removed: 'A sign-in method was removed from your account',
  recovery_codes_regenerated: 'New recovery codes were generated for your account',
  password_changed: 'Your password was changed',
  email_changed: 'The email address of your account was changed',
  account_locked: 'Your account was locked after too many failed sign-in attempts',
  new_device: 'New sign-in to your account from a device not seen before',
  mfa_reset: 'An administrator reset the sign-in methods of your account',
  role_revoked: 'An administrator removed a role from your account',
  mfa_required: 'An administrator requires a second factor for your account',
  mfa_requirement_lifted: 'An administrator no longer requires a second factor for your account',
  signed_out_by_admin: 'An administrator signed your account out everywhere',
  email_code: 'Your sign-in code',
  password_reset: 'Your password was reset',
  email_change_requested: 'Someone asked to change the email address of your account',
  password_reset_requested: 'Reset your password',
  email_verification: 'Confirm your email address',
  signup_attempted: 'Someone tried to sign up with your email address',
};

type MailApp = Pick<App, 'config' | 'logger'> & Partial<Pick<App, 'secrets'>>;

/**
 * The body of one mail. Codes and keys are derived here, at send time, from the row's nonce and the server key: the
 * outbox never holds them (crypto/recoveryTokens.ts).
 */
export function mailText(app: MailApp, row: OutboxRow, subject: string): string {
  const urls = app.config.frontendUrls;
  const keys = app.secrets?.keys;
  const payload = row.payload ?? {};
  const lines: string[] = [];
  const at = new Date(row.created_at).toISOString();
  switch (row.kind) {
    case 'email_code': {
      if (!row.secret) break;
      const what = row.secret.purpose === 'enroll' ? 'to confirm this address as a sign-in method' : 'to finish signing in';
      return `Your code ${what} is ${row.secret.code}. It expires at ${row.secret.expiresAt}. If you did not ask for it, someone knows your password: change it now.`;
    }
    case 'password_reset_requested': {
      if (!keys || !payload.nonce) break;
      const code = deriveCode(keys, 'password_reset', payload.nonce, payload.keyId);
      const key = linkKeyOf(row.user_id, deriveLinkSecret(keys, 'password_reset', payload.nonce, payload.keyId));
      lines.push(
        `Someone (hopefully you) asked to reset the password of your account (${at}).`,
        `Your code: ${code} (valid 15 minutes; enter it at ${urls.account_reset_password}).`,
        `Or follow this link within 24 hours: ${urls.account_reset_password_from_key.replace('{key}', encodeURIComponent(key))}`,
        'If you did not ask, ignore this mail: your password stays as it is.',
      );
      return lines.join('\n');
    }
    case 'email_verification': {
      if (!keys || !payload.nonce) break;
      lines.push(
        `Your code to confirm this email address: ${deriveCode(keys, 'email_verification', payload.nonce, payload.keyId)}`,
        `It is valid 15 minutes; enter it at ${urls.account_confirm_email}.`,
        'If you did not ask for it, ignore this mail.',
      );
      return lines.join('\n');
    }
    case 'signup_attempted':
      return `${subject} (${at}). You already have an account: if this was you, sign in or reset your password at ${urls.account_reset_password}. If not, nothing changed.`;
    default:
      break;
  }
  lines.push(`${subject} (${at}).`);
  if (keys && payload.reportKeyId) {
    const key = compromiseKeyOf(keys, row.notification_id, payload.reportKeyId);
    lines.push(`If this was not you, follow this link within 24 hours: ${urls.account_compromised.replace('{key}', encodeURIComponent(key))}`);
    lines.push('It signs everyone out, undoes this change where it can, and asks for a new password before the next sign-in.');
  } else {
    lines.push('If this was not you, secure your account now.');
  }
  return lines.join('\n');
}

export type Deliver = (row: OutboxRow) => Promise<void>;

export function createDelivery(app: MailApp & Pick<App, 'db' | 'personalData'>, transport?: Transporter): Deliver {
  const smtp = transport ?? (app.config.smtpUrl ? nodemailer.createTransport(app.config.smtpUrl) : null);
  return async (sealedRow) => {
    // The recipient is sealed under the user's key: opened only to hand it to the mail server (null once erased).
    const row = { ...sealedRow, recipient: sealedRow.recipient ? await app.personalData.openDeep(app.db, sealedRow.recipient) : null };
    const subject = subjects[row.kind] ?? 'Security notice';
    if (!smtp || !row.recipient) {
      app.logger.info({ notificationId: row.notification_id, userId: row.user_id, kind: row.kind }, 'security notification');
      return;
    }
    await smtp.sendMail({
      from: app.config.notificationFrom,
      to: row.recipient,
      subject,
      text: mailText(app, row, subject),
      headers: { 'X-Tessera-Notification-Id': row.notification_id },
    });
  };
}

export interface NotificationWorker {
  /** Tries every due row it can claim; returns how many were sent (failed attempts are recorded, not counted). */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

type WorkerApp = Pick<App, 'db' | 'config' | 'logger' | 'store' | 'clock' | 'personalData'> & Partial<Pick<App, 'secrets'>>;

export function startNotificationWorker(app: WorkerApp, options: { deliver?: Deliver; pollMs?: number; autoStart?: boolean } = {}): NotificationWorker {
  const deliver = options.deliver ?? createDelivery(app);
  const pollMs = options.pollMs ?? app.config.notificationPollMs;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  /** One due row: sent, failed (recorded), or none left to try. */
  async function tryOne(): Promise<'sent' | 'failed' | 'none'> {
    return app.db.transaction(async (tx) => {
      const now = app.clock.now();
      // Never-tried rows first, then retries by due time; rows another worker holds are skipped, not waited for.
      const [row] = await tx.query<OutboxRow>(
        `select id, notification_id, user_id, kind, recipient, created_at, attempts, payload, secret_ciphertext from notification_outbox
         where sent_at is null and dead_lettered_at is null and (next_attempt_at is null or next_attempt_at <= $1)
         order by next_attempt_at nulls first, id limit 1 for update skip locked`,
        [now.toISOString()],
      );
      if (!row) return 'none';
      const sealed = row.secret_ciphertext as string | null | undefined;
      delete row.secret_ciphertext;
      try {
        row.secret = sealed && app.secrets ? JSON.parse(app.secrets.box.open(sealed, codeAad(row.notification_id))) : null;
        // The recipient is an envelope under the user's key: opened here, in the claim's transaction (on the embedded
        // database a second connection does not exist, so a read outside the transaction would wait for it forever).
        if (row.recipient) row.recipient = await app.personalData.openDeep(tx, row.recipient);
        await deliver(row);
      } catch (error) {
        await recordFailure(tx, row, error, now);
        return 'failed';
      }
      // Sent: the sealed code has done its job and is not kept.
      await tx.query(`update notification_outbox set sent_at = $2, attempts = attempts + 1, secret_ciphertext = null where id = $1`, [row.id, now.toISOString()]);
      return 'sent';
    });
  }

  // In the claim's transaction, which commits: the count survives the failure, and the row lock held since the claim
  // means no other worker can have tried it meanwhile.
  async function recordFailure(tx: Queryable, row: OutboxRow, error: unknown, now: Date): Promise<void> {
    const attempts = Number(row.attempts) + 1;
    // Kept on the row for operators, with any address the server's message quotes taken out.
    const message = (error instanceof Error ? error.message : String(error)).replace(/[^\s<>"'@]+@[^\s<>"'@]+/g, '[address]');
    const failure = smtpFailure(error);
    // The codes, not the message: an SMTP server's message often quotes the recipient's address.
    const log = { notificationId: row.notification_id, userId: row.user_id, kind: row.kind, attempts, failure };
    if (attempts < app.config.notificationMaxAttempts) {
      const nextAttemptAt = new Date(now.getTime() + retryDelayMs(attempts));
      await tx.query(
        `update notification_outbox set attempts = $2, last_error = $3, next_attempt_at = $4 where id = $1`,
        [row.id, attempts, message, nextAttemptAt.toISOString()],
      );
      app.logger.warn({ ...log, nextAttemptAt }, 'security notification not delivered; will retry');
      return;
    }
    await tx.query(`update notification_outbox set attempts = $2, last_error = $3, dead_lettered_at = $4, secret_ciphertext = null where id = $1`, [row.id, attempts, message, now.toISOString()]);
    const stream = streams.notification(row.notification_id);
    const event: SecurityNotificationDeadLettered = {
      type: 'SecurityNotificationDeadLettered',
      data: {
        notificationId: row.notification_id, userId: row.user_id, kind: row.kind as SecurityNotificationKind, attempts,
        lastError: failure,
        at: now.toISOString(),
      },
    };
    await app.store.append(stream, [event], { expectedVersion: await app.store.streamVersion(stream, tx), metadata: { actor: 'system' }, now, tx });
    app.logger.error(log, 'security notification dead-lettered: the user was not told (tessera notifications dead-letters)');
  }

  async function drain(): Promise<number> {
    let sent = 0;
    while (!stopped) {
      try {
        const outcome = await tryOne();
        if (outcome === 'none') break;
        if (outcome === 'sent') sent++;
      } catch (error) {
        // Not a failed send (those are recorded above) but the database itself: try again at the next tick.
        app.logger.error({ err: error }, 'notification delivery worker failed; will retry');
        break;
      }
    }
    return sent;
  }

  const tick = (): void => {
    if (stopped) return;
    running = drain().finally(() => {
      if (!stopped) timer = setTimeout(tick, pollMs);
    });
  };
  if (options.autoStart !== false) tick();
  return {
    drain,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => {});
    },
  };
}

/** nodemailer's error code (EENVELOPE, ECONNECTION, …) and the SMTP reply code, when the error carries them. */
function smtpFailure(error: unknown): { code: string | null; responseCode: number | null } {
  const e = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  return { code: typeof e.code === 'string' ? e.code : null, responseCode: typeof e.responseCode === 'number' ? e.responseCode : null };
}

export interface DeadLetterRow {
  notification_id: string;
  user_id: string;
  kind: string;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  dead_lettered_at: Date;
  [key: string]: unknown;
}

/** What operators list with `tessera notifications dead-letters` (no recipient: the user id leads to it). */
export async function listDeadLetters(q: Queryable): Promise<DeadLetterRow[]> {
  return q.query<DeadLetterRow>(
    `select notification_id, user_id, kind, attempts, last_error, created_at, dead_lettered_at from notification_outbox
     where dead_lettered_at is not null order by dead_lettered_at, id`,
  );
}
