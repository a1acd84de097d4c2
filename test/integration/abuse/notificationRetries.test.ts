// One undeliverable notification must not stop the others (issue 11 item 3). A real SMTP sink refuses every recipient
// whose address starts with "bounce" (550, permanently); the worker is drained by hand on the test's clock.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { listDeadLetters, retryDelayMs, startNotificationWorker, type NotificationWorker } from '../../../src/notifications/worker.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';

const maxAttempts = 3;
let s: TestServer;
let sink: SMTPServer;
let worker: NotificationWorker;
const delivered: string[] = [];
const refused: string[] = [];

beforeAll(async () => {
  sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onRcptTo(address, _session, callback) {
      if (!address.address.startsWith('bounce')) return callback();
      refused.push(address.address);
      callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
    },
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        const id = /X-Tessera-Notification-Id: (\S+)/i.exec(raw)?.[1];
        if (id) delivered.push(id);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const port = (sink.server.address() as { port: number }).port;
  // No verification codes (none): this suite counts the deliveries of the security notices it causes.
  s = await startTestServer({ env: { ACCOUNT_EMAIL_VERIFICATION: 'none', ATTEMPTS_PER_IP: '100000', SMTP_URL: `smtp://127.0.0.1:${port}`, NOTIFICATION_MAX_ATTEMPTS: String(maxAttempts) } });
  worker = startNotificationWorker(s.app, { autoStart: false });
});
afterAll(async () => {
  await worker.stop();
  await s.close();
  await new Promise<void>((resolve) => sink.close(() => resolve()));
});
beforeEach(async () => {
  // Delivery state only (the events stay): each test starts with an empty queue.
  await s.app.db.query(`delete from notification_outbox`);
});

/** Signs up `email` and adds a security key, which requests one factor_added notification to that address. */
async function notificationFor(email: string): Promise<string> {
  await signedUpUser(s, email);
  const [user] = await s.app.db.query<{ user_id: string }>(`select user_id from proj.users where email_hash = $1`, [s.app.personalData.hashes.email(email)]);
  const userId = user!.user_id;
  await s.app.store.append(`authenticators-${userId}`, [{
    type: 'WebAuthnCredentialRegistered',
    data: { userId, authenticatorId: 'a1', credentialId: `c-${userId}`, publicKey: 'p', counter: 0, transports: [], aaguid: '', backupEligible: false, backedUp: false, isPasswordless: false, name: 'key', at: s.clock.now().toISOString() },
  }], { expectedVersion: 0, metadata: { actor: userId } });
  // The recipient is sealed under the user's key (issue 14 item 0): found by the user.
  const [row] = await s.app.db.query<{ notification_id: string }>(`select notification_id from notification_outbox where user_id = $1 order by id desc limit 1`, [userId]);
  return row!.notification_id;
}

interface OutboxState { attempts: number; sent_at: Date | null; next_attempt_at: Date | null; dead_lettered_at: Date | null; last_error: string | null }

async function outbox(notificationId: string): Promise<OutboxState> {
  const [row] = await s.app.db.query<OutboxState & Record<string, unknown>>(
    `select attempts, sent_at, next_attempt_at, dead_lettered_at, last_error from notification_outbox where notification_id = $1`, [notificationId],
  );
  return row!;
}

describe('notification delivery retries', () => {
  it('a notification the server refuses does not block the ones after it', async () => {
    const bad = await notificationFor('bounce-first@example.com'); // the lowest row: the one the worker takes first
    const good = [await notificationFor('good-a@example.com'), await notificationFor('good-b@example.com')];
    expect(await worker.drain()).toBe(2);
    for (const id of good) expect(delivered).toContain(id);
    const row = await outbox(bad);
    expect(row.sent_at).toBeNull();
    expect(row.attempts).toBe(1); // the failed attempt is counted, not rolled back
    expect(row.last_error).toMatch(/550|rejected/i);
  });

  it('a refused notification is retried only after its back-off, and each attempt is counted', async () => {
    const bad = await notificationFor('bounce-backoff@example.com');
    const tries = (): number => refused.filter((a) => a === 'bounce-backoff@example.com').length;
    await worker.drain();
    expect(tries()).toBe(1);
    expect((await outbox(bad)).next_attempt_at).toEqual(new Date(s.clock.now().getTime() + retryDelayMs(1)));

    await worker.drain(); // not yet due
    s.clock.advance(retryDelayMs(1) - 1000);
    await worker.drain(); // still not due
    expect(tries()).toBe(1);
    expect((await outbox(bad)).attempts).toBe(1);

    s.clock.advance(1000);
    await worker.drain();
    expect(tries()).toBe(2);
    const row = await outbox(bad);
    expect(row.attempts).toBe(2);
    expect(row.next_attempt_at).toEqual(new Date(s.clock.now().getTime() + retryDelayMs(2))); // doubled
    expect(retryDelayMs(2)).toBe(2 * retryDelayMs(1));
  });

  it(`after ${maxAttempts} refused attempts the notification is dead-lettered: an event, an error log line, and the operators' list`, async () => {
    const bad = await notificationFor('bounce-dead@example.com');
    const logged = vi.spyOn(s.app.logger, 'error');
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      await worker.drain();
      s.clock.advance(retryDelayMs(attempt));
    }
    const row = await outbox(bad);
    expect(row.attempts).toBe(maxAttempts);
    expect(row.dead_lettered_at).not.toBeNull();
    expect(row.sent_at).toBeNull();

    const events = await s.app.db.query<{ type: string; data: Record<string, unknown> }>(
      `select type, data from events where stream_id = $1 order by version`, [`notification-${bad}`],
    );
    expect(events.map((e) => e.type)).toEqual(['SecurityNotificationRequested', 'SecurityNotificationDeadLettered']);
    expect(events[1]!.data).toMatchObject({ notificationId: bad, kind: 'factor_added', attempts: maxAttempts, lastError: { responseCode: 550 } });
    expect(JSON.stringify(events[1]!.data)).not.toContain('bounce-dead@'); // no address in the log
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ notificationId: bad, attempts: maxAttempts }), expect.stringMatching(/dead-lettered/));
    logged.mockRestore();
    expect((await listDeadLetters(s.app.db)).map((r) => r.notification_id)).toEqual([bad]);

    // Dead means never tried again.
    s.clock.advance(7 * 86400_000);
    await worker.drain();
    expect(refused.filter((a) => a === 'bounce-dead@example.com')).toHaveLength(maxAttempts);
    if (s.database.url) expect(await cli(['notifications', 'dead-letters'], s.database.url)).toContain(`"notification_id":"${bad}"`);
  });
});

/** `tessera …` in a process of its own, as an operator runs it; resolves with its stdout once it exits 0. */
function cli(args: string[], databaseUrl: string): Promise<string> {
  const env = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: '.data/test', DATABASE_URL: databaseUrl };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`tessera ${args.join(' ')} exited ${code}`))));
  });
}
