// A local SMTP server the test runs, and a delivery worker pointed at it: every mail a test reads went through the
// outbox, the worker and SMTP, as in production.
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createDelivery, startNotificationWorker, type NotificationWorker } from '../../src/notifications/worker.js';
import type { TestServer } from './server.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface MailSink {
  mails: Mail[];
  /** Delivers every due outbox row through SMTP and returns the mails received since the last call. */
  deliver(): Promise<Mail[]>;
  /** The mails to one address, delivered first. */
  to(address: string): Promise<Mail[]>;
  close(): Promise<void>;
}

/** Quoted-printable soft breaks and escapes, as nodemailer writes long lines. */
function decodeQuotedPrintable(body: string): string {
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function parse(raw: string): Mail {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const header = (name: string): string => new RegExp(`^${name}: (.*)$`, 'im').exec(head ?? '')?.[1]?.trim() ?? '';
  const body = rest.join('\n\n');
  const text = /quoted-printable/i.test(head ?? '') ? decodeQuotedPrintable(body) : body;
  return { to: header('To').replace(/^.*<|>.*$/g, ''), subject: header('Subject'), text: text.replace(/\r\n/g, '\n').trim() };
}

export async function startMailSink(server: TestServer): Promise<MailSink> {
  const mails: Mail[] = [];
  let seen = 0;
  const sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        mails.push(parse(raw));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const port = (sink.server.address() as { port: number }).port;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  const worker: NotificationWorker = startNotificationWorker(server.app, { autoStart: false, deliver: createDelivery(server.app, transport) });
  const sinkApi: MailSink = {
    mails,
    async deliver() {
      const sent = await worker.drain();
      const deadline = Date.now() + 10_000;
      while (mails.length < seen + sent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      const fresh = mails.slice(seen);
      seen = mails.length;
      return fresh;
    },
    async to(address) {
      await sinkApi.deliver();
      return mails.filter((m) => m.to === address);
    },
    async close() {
      await worker.stop();
      transport.close();
      await new Promise<void>((resolve) => sink.close(() => resolve()));
    },
  };
  return sinkApi;
}

/** The code in a mail ("Your code: ABCD2345" or "...email address: ABCD2345"). */
export function codeIn(mail: Mail | undefined): string {
  const code = /code[^:]*: ([A-Z2-9]{8})\b/.exec(mail?.text ?? '')?.[1];
  if (!code) throw new Error(`no code in ${JSON.stringify(mail)}`);
  return code;
}

/** The key at the end of the first link to `path` in a mail. */
export function linkKeyIn(mail: Mail | undefined, path: string): string {
  const match = new RegExp(`${path.replace(/\//g, '\\/')}([^\\s]+)`).exec(mail?.text ?? '');
  if (!match) throw new Error(`no ${path} link in ${JSON.stringify(mail)}`);
  return decodeURIComponent(match[1]!);
}
