// What /metrics shows (Prometheus text format, prom-client), counted in ONE place: the events each committed
// transaction appended (the event store tells this module; a transaction rolled back and retried is never counted),
// the refusals of the attempt budget (the one seam every verification goes through), and, at scrape time, the outbox
// and the connection pool. Transports count nothing themselves, so GraphQL, REST and the CLI are counted alike.
//
// Labels hold only bounded vocabularies (methods, outcomes, reasons): never a user id, address or email.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/index.js';
import { DomainError } from '../domain/shared/errors.js';
import type { EventStoreObserver, RecordedEvent } from '../eventstore/index.js';
import type { PasswordHasher } from '../crypto/password.js';
import type { AttemptBudget } from '../security/attempts.js';

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Fed by the event store: append latency, and the committed events that are logins, MFA steps and locks. */
  readonly store: EventStoreObserver;
  /** The budget with its refusals counted (wraps the guarded budget: lock, back-off, rate limits). */
  meterAttempts(budget: AttemptBudget): AttemptBudget;
  /** The text a scrape gets. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** First-step outcomes of a login, by what its transaction appended. */
function loginOutcome(events: readonly RecordedEvent[]): Array<{ method: string; outcome: string }> {
  const results: Array<{ method: string; outcome: string }> = [];
  const byFlow = new Map<string, RecordedEvent[]>();
  for (const event of events) {
    if (!event.streamId.startsWith('login-')) continue;
    byFlow.set(event.streamId, [...(byFlow.get(event.streamId) ?? []), event]);
  }
  for (const flow of byFlow.values()) {
    const started = flow.find((e) => e.type === 'LoginStarted');
    if (!started) continue; // a later step of an earlier flow (the MFA step): counted as an MFA step
    const method = String(started.data.method);
    if (flow.some((e) => e.type === 'PasswordRejected')) results.push({ method, outcome: 'rejected' });
    else if (flow.some((e) => e.type === 'MfaRequired')) results.push({ method, outcome: 'mfa_required' });
    else if (flow.some((e) => e.type === 'LoginCompleted')) results.push({ method, outcome: 'succeeded' });
  }
  return results;
}

export function createServiceMetrics(options: { db: Db; passwords: Pick<PasswordHasher, 'usage'>; prefix?: string }): ServiceMetrics {
  const prefix = options.prefix ?? 'tessera_';
  const registry = new Registry();
  const logins = new Counter({
    name: `${prefix}logins_total`, help: 'First steps of logins by method (password, passkey) and outcome (succeeded, mfa_required, rejected).',
    labelNames: ['method', 'outcome'] as const, registers: [registry],
  });
  const passkeyRejections = new Counter({
    name: `${prefix}passkey_login_rejections_total`, help: 'Passkey login assertions rejected, by reason.',
    labelNames: ['reason'] as const, registers: [registry],
  });
  const mfaSteps = new Counter({
    name: `${prefix}mfa_steps_total`, help: 'MFA steps of pending logins by method (totp, recovery_code, webauthn) and outcome (succeeded, failed, expired).',
    labelNames: ['method', 'outcome'] as const, registers: [registry],
  });
  const locks = new Counter({
    name: `${prefix}account_locks_total`, help: 'Accounts locked after consecutive failures (UserLocked), by bucket kind (device, untrusted).',
    labelNames: ['bucket'] as const, registers: [registry],
  });
  const refusals = new Counter({
    name: `${prefix}attempt_refusals_total`, help: 'Verification attempts refused before any secret was checked, by reason (ACCOUNT_LOCKED, RATE_LIMITED).',
    labelNames: ['reason'] as const, registers: [registry],
  });
  const appendSeconds = new Histogram({
    name: `${prefix}event_append_seconds`, help: 'One append: version check, hash chain, insert, inline projections and reactors.',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1], registers: [registry],
  });
  const eventsAppended = new Counter({ name: `${prefix}events_committed_total`, help: 'Events committed to the log by this instance.', registers: [registry] });
  new Gauge({
    name: `${prefix}notification_outbox_depth`, help: 'Security notifications waiting for delivery (not sent, not dead-lettered), all instances.',
    registers: [registry],
    async collect() {
      const [row] = await options.db.query<{ n: number }>(`select count(*)::int as n from notification_outbox where sent_at is null and dead_lettered_at is null`);
      this.set(row?.n ?? 0);
    },
  });
  new Gauge({
    name: `${prefix}notification_dead_letters`, help: 'Security notifications given up after their last attempt (dead-lettered), all instances.',
    registers: [registry],
    async collect() {
      const [row] = await options.db.query<{ n: number }>(`select count(*)::int as n from notification_outbox where dead_lettered_at is not null`);
      this.set(row?.n ?? 0);
    },
  });
  new Gauge({
    name: `${prefix}db_pool_max_connections`, help: 'Connections this instance may open to PostgreSQL.', registers: [registry],
    collect() {
      this.set(options.db.poolUsage?.().max ?? 1);
    },
  });
  new Gauge({
    name: `${prefix}db_pool_in_flight`, help: 'Queries and transactions under way, each holding or waiting for a connection.', registers: [registry],
    collect() {
      this.set(options.db.poolUsage?.().inFlight ?? 0);
    },
  });
  new Gauge({
    name: `${prefix}db_pool_saturation`, help: 'In-flight work ÷ connections: at 1 every connection is busy, above 1 work waits.', registers: [registry],
    collect() {
      const usage = options.db.poolUsage?.();
      this.set(usage ? usage.inFlight / usage.max : 0);
    },
  });
  new Gauge({
    name: `${prefix}password_hashes_running`, help: 'argon2 hashes and verifications computing now in this instance (at most PASSWORD_HASH_CONCURRENCY).', registers: [registry],
    collect() {
      this.set(options.passwords.usage().running);
    },
  });
  new Gauge({
    name: `${prefix}password_hashes_waiting`, help: 'argon2 hashes and verifications waiting for a turn in this instance: above 0 for long, logins queue on CPU.', registers: [registry],
    collect() {
      this.set(options.passwords.usage().waiting);
    },
  });

  const store: EventStoreObserver = {
    appended(seconds) {
      appendSeconds.observe(seconds);
    },
    committed(events) {
      eventsAppended.inc(events.length);
      for (const { method, outcome } of loginOutcome(events)) logins.inc({ method, outcome });
      for (const event of events) {
        switch (event.type) {
          case 'MfaSucceeded':
            mfaSteps.inc({ method: String(event.data.method), outcome: 'succeeded' });
            break;
          case 'MfaFailed':
            mfaSteps.inc({ method: String(event.data.method), outcome: event.data.reason === 'expired' ? 'expired' : 'failed' });
            break;
          case 'UserLocked':
            locks.inc({ bucket: event.data.bucket === undefined || event.data.bucket === 'untrusted' ? 'untrusted' : 'device' });
            break;
          case 'WebAuthnAssertionRejected':
            if (event.data.purpose === 'passkey_login') passkeyRejections.inc({ reason: String(event.data.reason) });
            break;
        }
      }
    },
  };

  const refused = (error: unknown): never => {
    if (error instanceof DomainError && (error.code === 'ACCOUNT_LOCKED' || error.code === 'RATE_LIMITED')) refusals.inc({ reason: error.code });
    throw error;
  };

  return {
    registry,
    store,
    meterAttempts: (budget) => ({
      consume: (accountKey, clientAddress, standing) => budget.consume(accountKey, clientAddress, standing).catch(refused),
      refund: (accountKey, clientAddress) => budget.refund(accountKey, clientAddress),
      consumeAddress: (clientAddress) => budget.consumeAddress(clientAddress).catch(refused),
    }),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
