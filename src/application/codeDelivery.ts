// The interface one-time codes are delivered through (email now; an SMS gateway later), apart so that deps.ts can name
// it without importing the use cases.
import type { Queryable } from '../db/index.js';

/** What a delivery is asked to send: the code in clear, only ever handed to the channel (sealed in its outbox). */
export interface CodeMessage {
  userId: string;
  code: string;
  purpose: 'enroll' | 'login';
  expiresAt: Date;
  /** The position of the EmailCodeIssued event (the notification's cause). */
  causePosition: number;
  correlationId?: string;
}

/**
 * How a one-time code reaches its owner. Email today (notifications/codeDelivery.ts, through the outbox); an SMS
 * gateway later is another implementation of this interface, chosen in app.ts: the factor itself does not change.
 */
export interface CodeDelivery {
  readonly channel: 'email';
  /** Queues the code inside the caller's transaction: it goes out only if the code's issue commits. */
  send(tx: Queryable, message: CodeMessage): Promise<void>;
}
