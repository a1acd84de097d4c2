// Consecutive failed verifications per account, from the log: every rejected secret on every path adds one; a
// completed login, a reauthentication or an administrator's unlock of that same account resets it. Nothing another
// account does touches the row, so an attacker's own success elsewhere resets nothing of the victim's.
import type { Queryable } from '../db/index.js';
import type { AuthenticatorEvent } from '../domain/authenticators/events.js';
import type { LoginEvent } from '../domain/login/events.js';
import type { SessionEvent } from '../domain/session/events.js';
import type { UserEvent } from '../domain/user/events.js';
import type { FailureRecord } from '../domain/user/lockout.js';
import { noSecretBucket, untrustedBucket } from '../domain/user/state.js';
import { readAheadOf, type ReadAheadRow } from '../eventstore/index.js';
import { isOneOf, liveSchema, sql, type Handled, type Projector, type ReadAheadJoin, type Recorded, type SqlStatement } from './projector.js';

/**
 * One event per rejected secret. MfaFailed is left out on purpose: it is the login flow's echo of the factor's own
 * rejection (TotpCodeRejected, RecoveryCodeRejected, WebAuthnAssertionRejected) and would count one attempt twice.
 */
export const failureEventTypes = [
  'PasswordRejected', 'ReauthenticationRejected', 'TotpCodeRejected', 'TotpActivationRejected', 'RecoveryCodeRejected', 'WebAuthnAssertionRejected',
  'EmailCodeRejected',
] as const;
export const successEventTypes = ['LoginCompleted', 'SessionReauthenticated', 'UserUnlocked'] as const;
const handles = [...failureEventTypes, ...successEventTypes, 'UserLocked'] as const;
type AccountFailureEvent = Handled<UserEvent | LoginEvent | AuthenticatorEvent | SessionEvent, typeof handles>;

/** The attempt bucket an event counts in: the device the use case named, else every unknown device together. */
function bucketOf(event: { metadata: { attemptBucket?: string } }): string {
  return event.metadata.attemptBucket ?? untrustedBucket;
}

export const accountFailuresProjector: Projector<AccountFailureEvent> = {
  name: 'account_failures',
  version: 5,
  handles,
  tables: [{ name: 'account_failures', orderBy: 'user_id, bucket' }],
  ddl: (s) => `
    create table ${s}.account_failures (
      user_id         text not null,
      bucket          text not null,
      consecutive     integer not null default 0,
      last_failure_at timestamptz,
      -- The bucket's lock (UserLocked, until its UserUnlocked): the user stream's locks, kept here so the gate in front
      -- of every verification reads one row.
      locked_until    timestamptz,
      primary key (user_id, bucket)
    )`,
  project(event: Recorded<AccountFailureEvent>, s: string): SqlStatement[] {
    // Locks are per bucket as the user stream folds them (domain/user/state.ts): a lock names its bucket (none: the
    // shared one); an unlock without a bucket ends them all.
    if (event.type === 'UserLocked') {
      return [sql(
        `insert into ${s}.account_failures (user_id, bucket, locked_until) values ($1, $2, $3)
         on conflict (user_id, bucket) do update set locked_until = excluded.locked_until`,
        event.data.userId, event.data.bucket ?? untrustedBucket, event.data.until,
      )];
    }
    if (event.type === 'UserUnlocked') {
      // A lock running out (by 'timeout') keeps the count: the next failure locks again, so the cap is never reached.
      // An administrator's unlock starts every bucket of the account afresh.
      const reset = event.data.by === 'admin' ? 'consecutive = 0, ' : '';
      if (event.data.bucket === undefined) return [sql(`update ${s}.account_failures set ${reset}locked_until = null where user_id = $1`, event.data.userId)];
      return [sql(`update ${s}.account_failures set ${reset}locked_until = null where user_id = $1 and bucket = $2`, event.data.userId, event.data.bucket)];
    }
    // A password rejected for an unknown email has no account to count against; one tried on an account that has no
    // password verified no secret of it.
    if (!event.data.userId || bucketOf(event) === noSecretBucket) return [];
    if (isOneOf(failureEventTypes, event)) {
      return [sql(
        `insert into ${s}.account_failures (user_id, bucket, consecutive, last_failure_at) values ($1, $2, 1, $3)
         on conflict (user_id, bucket) do update set consecutive = ${s}.account_failures.consecutive + 1, last_failure_at = excluded.last_failure_at`,
        event.data.userId, bucketOf(event), event.data.at,
      )];
    }
    // A success (a completed login, a reauthentication) resets the bucket it came from, and no other. A count already
    // at zero is left alone: the row is then not locked, so two logins of one account do not wait for each other.
    return [sql(`update ${s}.account_failures set consecutive = 0 where user_id = $1 and bucket = $2 and consecutive <> 0`, event.data.userId, bucketOf(event))];
  },
  /**
   * A rebuild's batch in a few statements (netChanges). Only into a schema a rebuild builds for itself: there no other
   * writer can create a row between the update and the insert, which live appends (racing each other in the live
   * schema) could, so those keep the one-by-one upserts.
   */
  projectBatch(events, s) {
    if (s === liveSchema) return events.flatMap((e) => accountFailuresProjector.project(e, s));
    // A user-wide unlock changes rows the batch does not name: it runs on its own, between the net changes of the
    // events before it and of those after it (statements run in order).
    const statements: SqlStatement[] = [];
    let segment: Array<Recorded<AccountFailureEvent>> = [];
    for (const event of events) {
      if (event.type === 'UserUnlocked' && (event.data.by === 'admin' || event.data.bucket === undefined)) {
        statements.push(...netChanges(segment, s), ...accountFailuresProjector.project(event, s));
        segment = [];
      } else segment.push(event);
    }
    return [...statements, ...netChanges(segment, s)];
  },
};

/**
 * The net change of events that name their rows (no user-wide unlock among them), in two statements: each row's count
 * (counted since the last reset, or added to the count), last failure and last lock or unlock, then the rows they
 * create (a row starts from zero: its first failure or lock made it, anything before that changed nothing).
 */
function netChanges(events: ReadonlyArray<Recorded<AccountFailureEvent>>, s: string): SqlStatement[] {
  const rows = new Map<string, { user_id: string; bucket: string; creates: boolean; reset: boolean; add: number; last_failure_at: string | null; set_lock: boolean; locked_until: string | null }>();
  const rowOf = (userId: string, bucket: string) => {
    const key = `${userId}\u0000${bucket}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { user_id: userId, bucket, creates: false, reset: false, add: 0, last_failure_at: null, set_lock: false, locked_until: null }));
    return row;
  };
  for (const event of events) {
    if (event.type === 'UserLocked') {
      Object.assign(rowOf(event.data.userId, event.data.bucket ?? untrustedBucket), { creates: true, set_lock: true, locked_until: event.data.until });
    } else if (event.type === 'UserUnlocked') {
      Object.assign(rowOf(event.data.userId, event.data.bucket!), { set_lock: true, locked_until: null });
    } else if (event.data.userId && bucketOf(event) !== noSecretBucket) {
      const row = rowOf(event.data.userId, bucketOf(event));
      if (isOneOf(failureEventTypes, event)) Object.assign(row, { creates: true, add: row.add + 1, last_failure_at: event.data.at });
      else Object.assign(row, { reset: true, add: 0 });
    }
  }
  if (rows.size === 0) return [];
  const recordset = `jsonb_to_recordset($1::text::jsonb) as r(user_id text, bucket text, creates boolean, reset boolean, add integer,
    last_failure_at timestamptz, set_lock boolean, locked_until timestamptz)`;
  const json = JSON.stringify([...rows.values()]);
  return [
    sql(
      `update ${s}.account_failures t set consecutive = case when r.reset then r.add else t.consecutive + r.add end,
         last_failure_at = coalesce(r.last_failure_at, t.last_failure_at),
         locked_until = case when r.set_lock then r.locked_until else t.locked_until end
       from ${recordset} where t.user_id = r.user_id and t.bucket = r.bucket`,
      json,
    ),
    sql(
      `insert into ${s}.account_failures (user_id, bucket, consecutive, last_failure_at, locked_until)
       select r.user_id, r.bucket, r.add, r.last_failure_at, case when r.set_lock then r.locked_until end from ${recordset}
        where r.creates and not exists (select 1 from ${s}.account_failures t where t.user_id = r.user_id and t.bucket = r.bucket)`,
      json,
    ),
  ];
}

/** What the lockout gate needs of one bucket of an account: its failures and its lock (domain/user/lockout.ts). */
export function standingOf(row: { consecutive?: number | null; last_failure_at?: Date | string | null; locked_until?: Date | string | null } | undefined): FailureRecord {
  return {
    consecutive: Number(row?.consecutive ?? 0),
    lastFailureAt: row?.last_failure_at ? new Date(row.last_failure_at) : null,
    lockedUntil: row?.locked_until ? new Date(row.locked_until).toISOString() : null,
  };
}

/** One bucket's standing, one row. */
export async function accountStanding(q: Queryable, userId: string, bucket: string): Promise<FailureRecord> {
  const [row] = await q.query<{ consecutive: number; last_failure_at: Date | null; locked_until: Date | null }>(
    `select consecutive, last_failure_at, locked_until from ${liveSchema}.account_failures where user_id = $1 and bucket = $2`, [userId, bucket],
  );
  return standingOf(row);
}

/** Whether a device is known to an account (its attempts then count in its own bucket, else in the shared one), and that bucket's standing. */
export interface DeviceStanding {
  deviceKnown: boolean;
  standing: FailureRecord;
}

export type StandingRow = { device_known: boolean | null; consecutive: number | null; last_failure_at: Date | null; locked_until: Date | null };

/**
 * The one row of a DeviceStanding, for a user and a device given as SQL expressions (a parameter, a joined column).
 * No user (a lateral join's outer row without one), no row: the planner makes that a one-time filter, and the two
 * lookups never run (findTokenHolder's sessions pay nothing for it; seen in EXPLAIN ANALYZE as "never executed").
 */
export function standingQuery(userId: string, deviceId: string): string {
  // Aliases of its own (sd, sf): the expressions name the caller's (findTokenHolder's pending login is `f`).
  return `select sd.device_id is not null as device_known, sf.consecutive, sf.last_failure_at, sf.locked_until
       from (select 1) as one
       left join ${liveSchema}.devices sd on sd.device_id = ${deviceId} and sd.user_id = ${userId}
       left join lateral (
         select consecutive, last_failure_at, locked_until from ${liveSchema}.account_failures
          where user_id = ${userId} and bucket = coalesce(sd.device_id, '${untrustedBucket}')) sf on true
      where ${userId} is not null`;
}

export function standingFrom(row: StandingRow | undefined): DeviceStanding {
  return { deviceKnown: row?.device_known === true, standing: standingOf(row) };
}

/**
 * An attempt's first read, one statement: the requesting device's standing in the account's budget; with `readAhead`,
 * also what the command reads and draws next (its SQL may use the standing's st.device_known; its params are numbered
 * from $3).
 */
export async function deviceAndStanding(q: Queryable, deviceId: string | undefined, userId: string, readAhead?: ReadAheadJoin): Promise<DeviceStanding & { readAhead?: ReadAheadRow }> {
  const rows = await q.query<StandingRow>(
    readAhead ? `select st.*, ahead.* from (${standingQuery('$2', '$1')}) st left join lateral (${readAhead.sql}) ahead on true` : standingQuery('$2', '$1'),
    [deviceId ?? null, userId, ...(readAhead?.params ?? [])],
  );
  const ahead = readAhead ? readAheadOf(rows) : undefined;
  return { ...standingFrom(rows[0]), ...(ahead ? { readAhead: ahead } : {}) };
}
