// The analysis read model (issue 19): counters per UTC hour, distinct presence per UTC hour, day and ISO week, the
// per-user state adoption needs, and pseudonymized failure rows for attack detection. Unlike the inline projections it
// runs asynchronously, from the log with a checkpoint, under one leader (application/analytics.ts): a counter row per
// hour touched by every login would otherwise serialize the logins that update it (DESIGN.md §3).
//
// No address, email or user agent is stored: ids, method names, counts, and keyed HMAC pseudonyms of addresses and of
// their networks (crypto/pseudonyms.ts).
import type { Queryable } from '../db/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { noSecretBucket, untrustedBucket } from '../domain/user/state.js';
import { failureEventTypes } from './accountFailures.js';
import { sql, type SqlStatement } from './projector.js';

/** Where the tables live; the documented views are in `analytics` (analyticsViews.ts). */
export const analyticsDataSchema = 'analytics_data';
export const analyticsProjectorName = 'analytics';
/** Bump when the tables or the mapping change: start-up rebuilds the analysis tables then. */
export const analyticsVersion = 1;

export const analyticsHandles = [
  'UserRegistered', 'UserDeleted', 'UserLocked', 'UserUnlocked',
  'LoginStarted', 'PasswordRejected', 'MfaFailed', 'LoginCompleted', 'LoginExpired', 'LoginAbandoned',
  'SessionStarted', 'SessionActivityRecorded', 'SessionReauthenticated',
  'TotpActivated', 'TotpDeactivated', 'WebAuthnCredentialRegistered', 'WebAuthnCredentialRemoved', 'RecoveryCodeUsed',
  'DeviceSeen', 'SuspiciousActivityDetected',
  ...failureEventTypes,
] as const;

/** Login methods as analysts name them: what the session was started with. */
export const loginMethods = ['password', 'password+totp', 'password+recovery_code', 'password+webauthn', 'passkey', 'trusted_device', 'email_code'] as const;
export const loginOutcomes = ['completed', 'password_rejected', 'mfa_failed', 'expired', 'abandoned'] as const;

export function analyticsDdl(s: string): string {
  return `
    create table ${s}.hourly (
      metric text not null,
      key    text not null,
      hour   timestamptz not null,
      n      bigint not null,
      primary key (metric, hour, key)
    );
    create table ${s}.daily (
      metric text not null,
      key    text not null,
      day    timestamptz not null,
      n      bigint not null,
      primary key (metric, day, key)
    );
    create table ${s}.seen (
      unit   text not null,
      kind   text not null,
      bucket timestamptz not null,
      id     text not null,
      primary key (unit, kind, bucket, id)
    );
    create table ${s}.distinct_counts (
      unit   text not null,
      kind   text not null,
      bucket timestamptz not null,
      n      bigint not null,
      primary key (unit, kind, bucket)
    );
    create table ${s}.user_state (
      user_id         text primary key,
      registered_at   timestamptz,
      deleted         boolean not null default false,
      totp            integer not null default 0,
      webauthn        integer not null default 0,
      first_factor_at timestamptz,
      devices         integer not null default 0
    );
    create table ${s}.failure_streaks (
      user_id     text not null,
      bucket      text not null,
      consecutive integer not null,
      primary key (user_id, bucket)
    );
    create table ${s}.attempts (
      position bigint primary key,
      at       timestamptz not null,
      outcome  text not null,
      kind     text not null,
      account  text not null,
      address  text,
      network  text
    );
    create index on ${s}.attempts (address, at);
    create index on ${s}.attempts (network, at);
    create index on ${s}.attempts (account, at);
    create index on ${s}.attempts (at);
    create table ${s}.detections (
      detection_id text primary key,
      kind         text not null,
      subject      text not null,
      window_start timestamptz not null,
      window_end   timestamptz not null,
      accounts     integer not null,
      addresses    integer not null,
      failures     integer not null,
      throttled_network text,
      throttled_until   timestamptz
    );
    create index on ${s}.detections (kind, subject, window_end);
    create index on ${s}.detections (throttled_network, throttled_until) where throttled_until is not null`;
}

/** The tables, with the columns that order them, for rebuild-equals-live comparisons. */
export const analyticsTables = ['hourly', 'daily', 'seen', 'distinct_counts', 'user_state', 'failure_streaks', 'attempts', 'detections'] as const;

interface UserState {
  [column: string]: unknown;
  user_id: string;
  registered_at: string | null;
  deleted: boolean;
  totp: number;
  webauthn: number;
  first_factor_at: string | null;
  devices: number;
}

export interface AddressPseudonymizer {
  of(address: string | undefined | null): { address: string; network: string } | null;
}

/**
 * An event's address as its pseudonyms: those the event store recorded in its metadata (the address itself is sealed,
 * or gone on an anonymous event), else computed from a clear address (events from before the pseudonyms).
 */
export function pseudonymOfEvent(event: RecordedEvent, pseudonyms: AddressPseudonymizer): { address: string; network: string } | null {
  const { ipHash, networkHash, ip } = event.metadata;
  if (ipHash && networkHash) return { address: ipHash, network: networkHash };
  return pseudonyms.of(ip);
}

export interface AnalyticsFoldOptions {
  /** Failures at or after this many in a row start a back-off (LOCKOUT_BACKOFF_AFTER): the series counts those. */
  backoffAfter: number;
  pseudonyms: AddressPseudonymizer;
}

const hourOf = (iso: string): string => {
  const d = new Date(iso);
  d.setUTCMinutes(0, 0, 0);
  return d.toISOString();
};
const dayOf = (iso: string): string => `${iso.slice(0, 10)}T00:00:00.000Z`;
/** ISO 8601 weeks start on Monday. */
const weekOf = (iso: string): string => {
  const d = new Date(dayOf(iso));
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString();
};

/** `password, totp` → `password+totp`; a trusted device's skipped MFA step is its own method. */
export function loginMethodOf(methods: ReadonlyArray<{ method: string }>): string {
  const names = methods.map((m) => m.method).filter((m) => m !== 'reauthentication');
  if (names.includes('trust')) return 'trusted_device';
  return names.join('+') || 'unknown';
}

const eventTime = (event: RecordedEvent): string => {
  const at = (event.data as { at?: unknown }).at;
  return typeof at === 'string' ? new Date(at).toISOString() : event.recordedAt.toISOString();
};

/** Events of a transaction are read together (application/analytics.ts), so signup's own session is told from a login. */
export async function analyticsStatements(
  tx: Queryable, events: readonly RecordedEvent[], s: string, options: AnalyticsFoldOptions,
): Promise<SqlStatement[]> {
  const handled = new Set<string>(analyticsHandles);
  const relevant = events.filter((e) => handled.has(e.type));
  if (relevant.length === 0) return [];
  const userIds = [...new Set(relevant.map((e) => (e.data as { userId?: unknown }).userId).filter((u): u is string => typeof u === 'string'))];
  const users = new Map<string, UserState>();
  const streaks = new Map<string, number>();
  if (userIds.length > 0) {
    for (const row of await tx.query<UserState & { registered_at: Date | string | null; first_factor_at: Date | string | null }>(
      `select * from ${s}.user_state where user_id = any($1::text[])`, [userIds],
    )) {
      users.set(row.user_id, {
        ...row, registered_at: row.registered_at ? new Date(row.registered_at).toISOString() : null,
        first_factor_at: row.first_factor_at ? new Date(row.first_factor_at).toISOString() : null,
      });
    }
    for (const row of await tx.query<{ user_id: string; bucket: string; consecutive: number }>(
      `select user_id, bucket, consecutive from ${s}.failure_streaks where user_id = any($1::text[])`, [userIds],
    )) streaks.set(`${row.user_id}\u0000${row.bucket}`, Number(row.consecutive));
  }
  const touchedStreaks = new Set<string>();
  const hourly = new Map<string, { metric: string; key: string; hour: string; n: number }>();
  const count = (metric: string, key: string, at: string, n = 1): void => {
    const hour = hourOf(at);
    const id = `${metric}\u0000${key}\u0000${hour}`;
    const row = hourly.get(id);
    if (row) row.n += n;
    else hourly.set(id, { metric, key, hour, n });
  };
  const presence = new Map<string, { unit: string; kind: string; bucket: string; id: string }>();
  const seen = (kind: 'session' | 'user', id: string, at: string): void => {
    for (const [unit, bucket] of [['hour', hourOf(at)], ['day', dayOf(at)], ['week', weekOf(at)]] as const) {
      presence.set(`${unit}\u0000${kind}\u0000${bucket}\u0000${id}`, { unit, kind, bucket, id });
    }
  };
  const attempts: Array<Record<string, unknown>> = [];
  const detections: Array<Record<string, unknown>> = [];
  const userOf = (userId: string): UserState => {
    let state = users.get(userId);
    if (!state) users.set(userId, (state = { user_id: userId, registered_at: null, deleted: false, totp: 0, webauthn: 0, first_factor_at: null, devices: 0 }));
    return state;
  };
  const factorChange = (userId: string, at: string, change: (state: UserState) => void): void => {
    const state = userOf(userId);
    const before = { any: state.totp > 0 || state.webauthn > 0, totp: state.totp > 0, webauthn: state.webauthn > 0 };
    change(state);
    const after = { any: state.totp > 0 || state.webauthn > 0, totp: state.totp > 0, webauthn: state.webauthn > 0 };
    if (!state.deleted) {
      for (const key of ['any', 'totp', 'webauthn'] as const) if (before[key] !== after[key]) count('mfa_users_delta', key, at, after[key] ? 1 : -1);
    }
    if (after.any && state.first_factor_at === null) {
      state.first_factor_at = at;
      count('first_factors', '', at);
      if (state.registered_at) count('enrol_seconds', '', at, Math.round((Date.parse(at) - Date.parse(state.registered_at)) / 1000));
    }
  };
  // Sessions a signup started: in the same transaction as the user's registration.
  const registeredIn = new Set(relevant.filter((e) => e.type === 'UserRegistered').map((e) => `${e.txId}\u0000${(e.data as { userId: string }).userId}`));
  const attempt = (event: RecordedEvent, outcome: 'failure' | 'success', kind: 'password' | 'mfa', account: string): void => {
    const pseudonym = pseudonymOfEvent(event, options.pseudonyms);
    attempts.push({ position: event.position, at: eventTime(event), outcome, kind, account, address: pseudonym?.address ?? null, network: pseudonym?.network ?? null });
  };

  for (const event of relevant) {
    const at = eventTime(event);
    const data = event.data as Record<string, unknown> & { userId?: string };
    const failureType = (failureEventTypes as readonly string[]).includes(event.type);
    if (failureType) {
      count('failures', event.type, at);
      const bucket = event.metadata.attemptBucket ?? untrustedBucket;
      if (data.userId && bucket !== noSecretBucket) {
        const key = `${data.userId}\u0000${bucket}`;
        const consecutive = (streaks.get(key) ?? 0) + 1;
        streaks.set(key, consecutive);
        touchedStreaks.add(key);
        if (consecutive >= options.backoffAfter) count('backoffs', '', at);
      }
    }
    switch (event.type) {
      case 'UserRegistered': {
        const state = userOf(data.userId!);
        state.registered_at = at;
        count('signups', '', at);
        count('users_delta', '', at);
        break;
      }
      case 'UserDeleted': {
        const state = userOf(data.userId!);
        if (state.deleted) break;
        count('users_delta', '', at, -1);
        if (state.totp > 0 || state.webauthn > 0) count('mfa_users_delta', 'any', at, -1);
        if (state.totp > 0) count('mfa_users_delta', 'totp', at, -1);
        if (state.webauthn > 0) count('mfa_users_delta', 'webauthn', at, -1);
        state.deleted = true;
        break;
      }
      case 'UserLocked':
        count('lockouts', '', at);
        break;
      case 'UserUnlocked':
        if (data.by === 'admin') {
          for (const key of [...streaks.keys()].filter((k) => k.startsWith(`${data.userId}\u0000`))) {
            streaks.set(key, 0);
            touchedStreaks.add(key);
          }
        }
        break;
      case 'PasswordRejected':
        count('login_outcomes', 'password_rejected', at);
        attempt(event, 'failure', 'password', data.userId ?? `unknown:${String(data.flowId)}`);
        break;
      case 'MfaFailed':
        count('login_outcomes', 'mfa_failed', at);
        attempt(event, 'failure', 'mfa', data.userId!);
        break;
      case 'LoginCompleted': {
        count('login_outcomes', 'completed', at);
        attempt(event, 'success', 'password', data.userId!);
        const key = `${data.userId}\u0000${(event.metadata.attemptBucket ?? untrustedBucket)}`;
        if (streaks.has(key)) {
          streaks.set(key, 0);
          touchedStreaks.add(key);
        }
        break;
      }
      case 'LoginExpired':
        count('login_outcomes', 'expired', at);
        break;
      case 'LoginAbandoned':
        count('login_outcomes', 'abandoned', at);
        break;
      case 'SessionStarted': {
        const d = data as unknown as { sessionId: string; userId: string; methods: Array<{ method: string }> };
        if (!registeredIn.has(`${event.txId}\u0000${d.userId}`)) count('logins', loginMethodOf(d.methods), at);
        seen('session', d.sessionId, at);
        seen('user', d.userId, at);
        break;
      }
      case 'SessionReauthenticated': {
        const key = `${data.userId}\u0000${(event.metadata.attemptBucket ?? untrustedBucket)}`;
        if (streaks.has(key)) {
          streaks.set(key, 0);
          touchedStreaks.add(key);
        }
        seen('session', String(data.sessionId), at);
        seen('user', data.userId!, at);
        break;
      }
      case 'SessionActivityRecorded':
        seen('session', String(data.sessionId), at);
        seen('user', data.userId!, at);
        break;
      case 'TotpActivated':
        count('factors_enrolled', 'totp', at);
        factorChange(data.userId!, at, (state) => { state.totp = 1; });
        break;
      case 'TotpDeactivated':
        count('factors_removed', 'totp', at);
        factorChange(data.userId!, at, (state) => { state.totp = 0; });
        break;
      case 'WebAuthnCredentialRegistered':
        count('factors_enrolled', 'webauthn', at);
        factorChange(data.userId!, at, (state) => { state.webauthn += 1; });
        break;
      case 'WebAuthnCredentialRemoved':
        count('factors_removed', 'webauthn', at);
        factorChange(data.userId!, at, (state) => { state.webauthn = Math.max(0, state.webauthn - 1); });
        break;
      case 'RecoveryCodeUsed':
        count('recovery_codes_used', '', at);
        break;
      case 'DeviceSeen': {
        const state = userOf(data.userId!);
        state.devices += 1;
        // The account's first device is where it signed up: not news.
        if (state.devices > 1) count('new_device_logins', '', at);
        break;
      }
      case 'SuspiciousActivityDetected': {
        const d = data as unknown as { detectionId: string; kind: string; subject: string; windowStart: string; windowEnd: string; accountCount: number; addressCount: number; failures: number; throttledNetwork: string | null; throttledUntil: string | null };
        detections.push({
          detection_id: d.detectionId, kind: d.kind, subject: d.subject, window_start: d.windowStart, window_end: d.windowEnd,
          accounts: d.accountCount, addresses: d.addressCount, failures: d.failures, throttled_network: d.throttledNetwork, throttled_until: d.throttledUntil,
        });
        count('detections', d.kind, at);
        break;
      }
    }
  }

  const statements: SqlStatement[] = [];
  if (hourly.size > 0) {
    statements.push(sql(
      `insert into ${s}.hourly (metric, key, hour, n)
       select metric, key, hour, n from jsonb_to_recordset($1::text::jsonb) as r(metric text, key text, hour timestamptz, n bigint)
       on conflict (metric, hour, key) do update set n = ${s}.hourly.n + excluded.n`,
      JSON.stringify([...hourly.values()]),
    ));
  }
  if (hourly.size > 0) {
    // The same counters per UTC day: a month of days is 30 rows per counter to read, not 720.
    const daily = new Map<string, { metric: string; key: string; day: string; n: number }>();
    for (const row of hourly.values()) {
      const day = dayOf(row.hour);
      const id = `${row.metric}\u0000${row.key}\u0000${day}`;
      const known = daily.get(id);
      if (known) known.n += row.n;
      else daily.set(id, { metric: row.metric, key: row.key, day, n: row.n });
    }
    statements.push(sql(
      `insert into ${s}.daily (metric, key, day, n)
       select metric, key, day, n from jsonb_to_recordset($1::text::jsonb) as r(metric text, key text, day timestamptz, n bigint)
       on conflict (metric, day, key) do update set n = ${s}.daily.n + excluded.n`,
      JSON.stringify([...daily.values()]),
    ));
  }
  if (presence.size > 0) {
    // Only the presence rows that are new add to the distinct counts: one statement, so nothing is counted twice.
    statements.push(sql(
      `with input as (select * from jsonb_to_recordset($1::text::jsonb) as r(unit text, kind text, bucket timestamptz, id text)),
            added as (insert into ${s}.seen (unit, kind, bucket, id) select unit, kind, bucket, id from input on conflict do nothing returning unit, kind, bucket)
       insert into ${s}.distinct_counts (unit, kind, bucket, n) select unit, kind, bucket, count(*) from added group by 1, 2, 3
       on conflict (unit, kind, bucket) do update set n = ${s}.distinct_counts.n + excluded.n`,
      JSON.stringify([...presence.values()]),
    ));
  }
  if (users.size > 0) {
    statements.push(sql(
      `insert into ${s}.user_state (user_id, registered_at, deleted, totp, webauthn, first_factor_at, devices)
       select user_id, registered_at, deleted, totp, webauthn, first_factor_at, devices
         from jsonb_to_recordset($1::text::jsonb) as r(user_id text, registered_at timestamptz, deleted boolean, totp integer, webauthn integer, first_factor_at timestamptz, devices integer)
       on conflict (user_id) do update set registered_at = excluded.registered_at, deleted = excluded.deleted, totp = excluded.totp,
         webauthn = excluded.webauthn, first_factor_at = excluded.first_factor_at, devices = excluded.devices`,
      JSON.stringify([...users.values()]),
    ));
  }
  if (touchedStreaks.size > 0) {
    const rows = [...touchedStreaks].map((key) => {
      const [user_id, bucket] = key.split('\u0000') as [string, string];
      return { user_id, bucket, consecutive: streaks.get(key) ?? 0 };
    });
    statements.push(sql(
      `insert into ${s}.failure_streaks (user_id, bucket, consecutive)
       select user_id, bucket, consecutive from jsonb_to_recordset($1::text::jsonb) as r(user_id text, bucket text, consecutive integer)
       on conflict (user_id, bucket) do update set consecutive = excluded.consecutive`,
      JSON.stringify(rows),
    ));
  }
  if (attempts.length > 0) {
    statements.push(sql(
      `insert into ${s}.attempts (position, at, outcome, kind, account, address, network)
       select position, at, outcome, kind, account, address, network
         from jsonb_to_recordset($1::text::jsonb) as r(position bigint, at timestamptz, outcome text, kind text, account text, address text, network text)
       on conflict (position) do nothing`,
      JSON.stringify(attempts),
    ));
  }
  if (detections.length > 0) {
    // The detector records its detection at once (so the next batch does not detect it again); the event repeats it.
    statements.push(sql(
      `insert into ${s}.detections (detection_id, kind, subject, window_start, window_end, accounts, addresses, failures, throttled_network, throttled_until)
       select * from jsonb_to_recordset($1::text::jsonb) as r(detection_id text, kind text, subject text, window_start timestamptz, window_end timestamptz,
         accounts integer, addresses integer, failures integer, throttled_network text, throttled_until timestamptz)
       on conflict (detection_id) do nothing`,
      JSON.stringify(detections),
    ));
  }
  return statements;
}
