// Delivers the notification outbox: at least once. Each row is claimed with `for update skip locked` in its own
// transaction, sent, and marked sent in that same transaction; a worker killed between sending and committing leaves
// the row unsent, so the next worker sends it again (a duplicate, never a loss). Several workers share the work.
import nodemailer, { type Transporter } from 'nodemailer';
import type { App } from '../app.js';

export interface OutboxRow {
  id: string;
  notification_id: string;
  user_id: string;
  kind: string;
  recipient: string | null;
  created_at: Date | string;
  [key: string]: unknown;
}

const subjects: Record<string, string> = {
  factor_added: 'A sign-in method was added to your account',
  factor_removed: 'A sign-in method was removed from your account',
  recovery_codes_regenerated: 'New recovery codes were generated for your account',
  password_changed: 'Your password was changed',
  email_changed: 'The email address of your account was changed',
  account_locked: 'Your account was locked after too many failed sign-in attempts',
  new_device: 'New sign-in to your account from a device not seen before',
};

export type Deliver = (row: OutboxRow) => Promise<void>;

export function createDelivery(app: Pick<App, 'config' | 'logger'>, transport?: Transporter): Deliver {
  const smtp = transport ?? (app.config.smtpUrl ? nodemailer.createTransport(app.config.smtpUrl) : null);
  return async (row) => {
    const subject = subjects[row.kind] ?? 'Security notice';
    if (!smtp || !row.recipient) {
      app.logger.info({ notificationId: row.notification_id, userId: row.user_id, kind: row.kind }, 'security notification');
      return;
    }
    await smtp.sendMail({
      from: app.config.notificationFrom,
      to: row.recipient,
      subject,
      text: `${subject} (${new Date(row.created_at).toISOString()}). If this was not you, secure your account now.`,
      headers: { 'X-Tessera-Notification-Id': row.notification_id },
    });
  };
}

export interface NotificationWorker {
  /** Sends every unsent row it can claim; returns how many were sent. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

export function startNotificationWorker(app: Pick<App, 'db' | 'config' | 'logger'>, options: { deliver?: Deliver; pollMs?: number; autoStart?: boolean } = {}): NotificationWorker {
  const deliver = options.deliver ?? createDelivery(app);
  const pollMs = options.pollMs ?? app.config.notificationPollMs;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  async function sendOne(): Promise<boolean> {
    return app.db.transaction(async (tx) => {
      const [row] = await tx.query<OutboxRow>(
        `select id, notification_id, user_id, kind, recipient, created_at from notification_outbox
         where sent_at is null order by id limit 1 for update skip locked`,
      );
      if (!row) return false;
      await deliver(row);
      await tx.query(`update notification_outbox set sent_at = now(), attempts = attempts + 1 where id = $1`, [row.id]);
      return true;
    });
  }

  async function drain(): Promise<number> {
    let sent = 0;
    while (!stopped) {
      try {
        if (!(await sendOne())) break;
        sent++;
      } catch (error) {
        app.logger.error({ err: error }, 'notification delivery failed; will retry');
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
