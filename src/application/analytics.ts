// Session analytics (issue 19): the asynchronous analysis projector, its lag, its rebuild (which recreates the SQL
// views and their grants), the series analysts read (GraphQL, CSV) and the read-only role for the views.
//
// The projector reads the log in commit order — (transaction id, position), below the visible horizon (DESIGN.md §3) —
// from a checkpoint, applies a batch and moves the checkpoint in one transaction. One leader at a time: each batch
// takes a transaction-level advisory lock with pg_try_advisory_xact_lock; an instance that does not get it skips the
// round, and because the batch and its checkpoint commit together, two instances can never apply an event twice.
import type { Db, Queryable } from '../db/index.js';
import { createAddressPseudonyms, type AddressPseudonyms } from '../crypto/pseudonyms.js';
import { DomainError } from '../domain/shared/errors.js';
import { logAppendedChannel } from '../eventstore/eventStore.js';
import { logStart, type LogCheckpoint, type RecordedEvent } from '../eventstore/index.js';
import { runStatements } from '../projections/runner.js';
import {
  analyticsDataSchema, analyticsDdl, analyticsProjectorName, analyticsStatements, analyticsTables, analyticsVersion, loginMethods, loginOutcomes,
} from '../projections/analyticsStore.js';
import { analyticsViewSchema, createAnalyticsViews } from '../projections/analyticsViews.js';
import { ensureRole } from '../db/roles.js';
import { detectAttacks } from './attackDetection.js';
import type { Deps } from './deps.js';

export type AnalyticsDeps = Pick<Deps, 'db' | 'store' | 'config' | 'logger' | 'secrets' | 'personalData'>;

/** The analytics leader's advisory lock key (the migrations use 7316001, live projections 7316002). */
export const analyticsLockKey = 7316019;

/** The same pseudonyms the event store writes into every event's metadata (ipHash, networkHash). */
export function pseudonymsOf(deps: Pick<Deps, 'personalData'>): AddressPseudonyms {
  const { hashes } = deps.personalData;
  return {
    of(address) {
      const network = address ? hashes.network(address) : null;
      return address && network ? { address: hashes.address(address), network } : null;
    },
  };
}

async function readCheckpoint(q: Queryable): Promise<LogCheckpoint> {
  const [row] = await q.query<{ tx_id: string; position: string | number }>(
    `select tx_id::text as tx_id, position from projection_checkpoints where name = $1`, [analyticsProjectorName],
  );
  return row ? { txId: row.tx_id, position: Number(row.position) } : logStart;
}

async function writeCheckpoint(q: Queryable, at: LogCheckpoint): Promise<void> {
  await q.query(
    `insert into projection_checkpoints (name, tx_id, position) values ($1, $2::xid8, $3)
     on conflict (name) do update set tx_id = excluded.tx_id, position = excluded.position, updated_at = now()`,
    [analyticsProjectorName, at.txId, at.position],
  );
}

/** The next batch in commit order, completed to the end of its last transaction (signup's session is told by that). */
async function readBatch(deps: Pick<Deps, 'store'>, tx: Queryable, after: LogCheckpoint, limit: number): Promise<RecordedEvent[]> {
  const events = await deps.store.readAll(after, limit, tx);
  if (events.length < limit) return events;
  const last = events[events.length - 1]!;
  return [...events, ...(await deps.store.readRestOfTransaction({ txId: last.txId, position: last.position }, tx))];
}

function foldOptions(deps: AnalyticsDeps) {
  return { backoffAfter: deps.config.lockout.backoffAfter, pseudonyms: pseudonymsOf(deps) };
}

/** One batch, if this instance is the leader now: `applied` events (0 when caught up), `leader` false when another ran. */
export async function runAnalyticsBatch(deps: AnalyticsDeps): Promise<{ applied: number; leader: boolean }> {
  return deps.db.transaction(async (tx) => {
    const [lock] = await tx.query<{ ok: boolean }>(`select pg_try_advisory_xact_lock($1) as ok`, [analyticsLockKey]);
    if (!lock!.ok) return { applied: 0, leader: false };
    const after = await readCheckpoint(tx);
    const events = await readBatch(deps, tx, after, deps.config.analytics.batchSize);
    if (events.length === 0) return { applied: 0, leader: true };
    await runStatements(tx, await analyticsStatements(tx, events, analyticsDataSchema, foldOptions(deps)), deps.db.kind === 'postgres');
    await detectAttacks(deps, tx, events, analyticsDataSchema, pseudonymsOf(deps));
    const last = events[events.length - 1]!;
    await writeCheckpoint(tx, { txId: last.txId, position: last.position });
    return { applied: events.length, leader: true };
  });
}

/** Applies batches until the projector has caught up with the visible log (tests, CLI, start-up). */
export async function catchUpAnalytics(deps: AnalyticsDeps): Promise<number> {
  let total = 0;
  for (;;) {
    const { applied, leader } = await runAnalyticsBatch(deps);
    total += applied;
    if (!leader) await new Promise((resolve) => setTimeout(resolve, 50));
    else if (applied === 0) return total;
  }
}

export interface AnalyticsLag {
  /** Committed events the analysis tables do not reflect yet. */
  events: number;
  /** Age of the oldest of them (0 when caught up). */
  seconds: number;
  checkpoint: LogCheckpoint;
}

/** The analysis projector's lag: a query for analysts and a gauge for the metrics (issue 20). */
export async function analyticsLag(db: Queryable): Promise<AnalyticsLag> {
  const checkpoint = await readCheckpoint(db);
  const [row] = await db.query<{ events: number; seconds: number | string | null }>(
    `select count(*)::int as events, extract(epoch from (now() - min(recorded_at)))::float8 as seconds
       from events where (tx_id, position) > ($1::xid8, $2::bigint)`,
    [checkpoint.txId, checkpoint.position],
  );
  return { events: row!.events, seconds: row!.events === 0 ? 0 : Math.max(0, Number(row!.seconds ?? 0)), checkpoint };
}

/** The background leader loop of `tessera serve`: woken by every append (LISTEN), polling as well. */
export function startAnalyticsProjector(deps: AnalyticsDeps): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | null = null;
  let woken = false;
  const unlisten = deps.db.listen(logAppendedChannel, () => {
    woken = true;
    wake?.();
  }).catch(() => async () => {});
  const loop = (async () => {
    while (!stopped) {
      woken = false;
      try {
        const { applied } = await runAnalyticsBatch(deps);
        if (applied > 0) continue;
      } catch (error) {
        if (stopped) break;
        deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'analytics projector batch failed');
      }
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deps.config.analytics.pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await (await unlisten)();
    },
  };
}

async function createDataTables(tx: Queryable, schema: string): Promise<void> {
  await tx.query(`create schema ${schema}`);
  for (const statement of analyticsDdl(schema).split(';').map((s) => s.trim()).filter(Boolean)) await tx.query(statement);
}

/** Grants read on every view to the roles recorded in analytics_grants (those that still exist). */
async function applyGrants(tx: Queryable): Promise<string[]> {
  const roles = await tx.query<{ role_name: string }>(
    `select g.role_name from analytics_grants g join pg_roles r on r.rolname = g.role_name order by 1`,
  );
  for (const { role_name: role } of roles) {
    // Names come from grantAnalyticsRole, which checked them; a name that is not a plain identifier is never spliced in.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) continue;
    await tx.query(`grant usage on schema ${analyticsViewSchema} to ${role}`);
    await tx.query(`grant select on all tables in schema ${analyticsViewSchema} to ${role}`);
  }
  return roles.map((r) => r.role_name);
}

/**
 * At start-up: on a fresh database, create the analysis tables and views; when the mapping's version changed, rebuild.
 * Otherwise make sure the views exist (someone may have dropped them).
 */
export async function ensureAnalytics(deps: AnalyticsDeps): Promise<'ready' | 'created' | 'rebuilt'> {
  const [schema] = await deps.db.query(`select 1 from information_schema.schemata where schema_name = $1`, [analyticsDataSchema]);
  const [version] = await deps.db.query<{ version: number }>(`select version from projection_versions where name = $1`, [analyticsProjectorName]);
  if (!schema || version?.version !== analyticsVersion) {
    const [checkpointRow] = await deps.db.query(`select 1 from projection_checkpoints where name = $1`, [analyticsProjectorName]);
    if (!schema && !checkpointRow) {
      const created = await deps.db.transaction(async (tx) => {
        await tx.query(`select pg_advisory_xact_lock($1)`, [analyticsLockKey]);
        const [exists] = await tx.query(`select 1 from information_schema.schemata where schema_name = $1`, [analyticsDataSchema]);
        if (exists) return false;
        await createDataTables(tx, analyticsDataSchema);
        await createAnalyticsViews(tx);
        await applyGrants(tx);
        await tx.query(
          `insert into projection_versions (name, version) values ($1, $2) on conflict (name) do update set version = excluded.version`,
          [analyticsProjectorName, analyticsVersion],
        );
        return true;
      });
      if (created) return 'created';
    }
    await rebuildAnalytics(deps);
    return 'rebuilt';
  }
  const [views] = await deps.db.query(`select 1 from information_schema.schemata where schema_name = $1`, [analyticsViewSchema]);
  if (!views) {
    await deps.db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock($1)`, [analyticsLockKey]);
      await createAnalyticsViews(tx);
      await applyGrants(tx);
    });
  }
  return 'ready';
}

async function replay(deps: AnalyticsDeps, tx: Queryable, schema: string, until: LogCheckpoint | null): Promise<{ events: number; last: LogCheckpoint }> {
  let after = logStart;
  let events = 0;
  const beyond = (e: RecordedEvent): boolean => until !== null && (BigInt(e.txId) > BigInt(until.txId) || (e.txId === until.txId && e.position > until.position));
  for (;;) {
    let batch = await readBatch(deps, tx, after, 5000);
    if (until) batch = batch.filter((e) => !beyond(e));
    if (batch.length === 0) break;
    await runStatements(tx, await analyticsStatements(tx, batch, schema, foldOptions(deps)), deps.db.kind === 'postgres');
    events += batch.length;
    const last = batch[batch.length - 1]!;
    after = { txId: last.txId, position: last.position };
  }
  return { events, last: after };
}

/**
 * Replays the whole log into fresh analysis tables and swaps them in, under the leader lock (the live projector waits),
 * then recreates the views — dropping the old tables drops the views that read them — and grants them again.
 * Detection does not run during a replay: the detections are read back from their own events.
 */
export async function rebuildAnalytics(deps: AnalyticsDeps): Promise<{ events: number; grants: string[] }> {
  const target = `${analyticsDataSchema}_rebuild`;
  return deps.db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock($1)`, [analyticsLockKey]);
    await tx.query(`drop schema if exists ${target} cascade`);
    await createDataTables(tx, target);
    const { events, last } = await replay(deps, tx, target, null);
    await tx.query(`drop schema if exists ${analyticsViewSchema} cascade`);
    await tx.query(`drop schema if exists ${analyticsDataSchema} cascade`);
    await tx.query(`alter schema ${target} rename to ${analyticsDataSchema}`);
    await createAnalyticsViews(tx);
    const grants = await applyGrants(tx);
    await writeCheckpoint(tx, last);
    await tx.query(
      `insert into projection_versions (name, version) values ($1, $2) on conflict (name) do update set version = excluded.version`,
      [analyticsProjectorName, analyticsVersion],
    );
    return { events, grants };
  });
}

/** Rows that differ between the live analysis tables and a fresh replay up to the live checkpoint (empty: equal). */
export async function compareAnalyticsWithReplay(deps: AnalyticsDeps): Promise<Array<{ table: string; onlyLive: number; onlyReplay: number }>> {
  const copy = `${analyticsDataSchema}_check`;
  return deps.db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock($1)`, [analyticsLockKey]);
    await tx.query(`drop schema if exists ${copy} cascade`);
    await createDataTables(tx, copy);
    await replay(deps, tx, copy, await readCheckpoint(tx));
    const diffs: Array<{ table: string; onlyLive: number; onlyReplay: number }> = [];
    for (const table of analyticsTables) {
      const [row] = await tx.query<{ a: number; b: number }>(
        `select (select count(*) from (select * from ${analyticsDataSchema}.${table} except all select * from ${copy}.${table}) x)::int as a,
                (select count(*) from (select * from ${copy}.${table} except all select * from ${analyticsDataSchema}.${table}) y)::int as b`,
      );
      if (row!.a !== 0 || row!.b !== 0) diffs.push({ table, onlyLive: row!.a, onlyReplay: row!.b });
    }
    await tx.query(`drop schema ${copy} cascade`);
    return diffs;
  });
}

/**
 * `tessera analytics grant-role NAME`: a login role (created if missing, like `db ensure-role`, through the
 * administrator's connection) that may read the views and nothing else. The grants go through the app's own connection:
 * the app builds the views, so it owns them (under MIGRATION_DATABASE_URL the tables' owner does not). Idempotent;
 * remembered in analytics_grants so a rebuild grants it again.
 */
export async function grantAnalyticsRole(deps: Pick<Deps, 'db'>, admin: Db, role: string): Promise<'created' | 'exists'> {
  const outcome = await ensureRole(admin, role);
  await deps.db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock($1)`, [analyticsLockKey]);
    await tx.query(`insert into analytics_grants (role_name) values ($1) on conflict (role_name) do nothing`, [role]);
    const [views] = await tx.query(`select 1 from information_schema.schemata where schema_name = $1`, [analyticsViewSchema]);
    if (!views) await createAnalyticsViews(tx);
    await applyGrants(tx);
  });
  return outcome;
}

// ---------------------------------------------------------------------------------------------------------------------
// The series

export type AnalyticsBucket = 'hour' | 'day' | 'week';

export interface AnalyticsQuery {
  from: Date;
  to: Date;
  bucket: AnalyticsBucket;
  /** An IANA time zone name; day and week boundaries are local midnights there. */
  timeZone: string;
}

export interface AnalyticsPoint {
  start: Date;
  logins: Record<string, number>;
  outcomes: Record<string, number>;
  failures: number;
  backoffs: number;
  lockouts: number;
  recoveryCodesUsed: number;
  newDeviceLogins: number;
  detections: number;
  activeSessions: number;
  activeUsers: number;
  signups: number;
  firstFactors: number;
  /** Seconds from signup to the first factor, on average over the bucket's first factors; null when none. */
  averageSecondsToEnrol: number | null;
  factorsEnrolled: Record<string, number>;
  factorsRemoved: Record<string, number>;
  /** At the end of the bucket. */
  users: number;
  usersWithFactor: number;
  usersWithTotp: number;
  usersWithWebAuthn: number;
}

/** At most this many buckets per query: a year of days, or two weeks of hours… a year of hours is refused. */
export const maxBuckets = 2000;

export function validateAnalyticsQuery(q: AnalyticsQuery, options: { series?: boolean } = {}): void {
  if (!(q.to.getTime() > q.from.getTime())) throw new DomainError('VALIDATION_FAILED', 'to: must be after from', { field: 'to' });
  try {
    new Intl.DateTimeFormat('en', { timeZone: q.timeZone });
  } catch {
    throw new DomainError('VALIDATION_FAILED', 'timeZone: must be an IANA time zone name such as Europe/Berlin', { field: 'timeZone' });
  }
  const seconds = { hour: 3600, day: 86400, week: 604800 }[q.bucket];
  if (options.series !== false && (q.to.getTime() - q.from.getTime()) / 1000 / seconds > maxBuckets) {
    throw new DomainError('VALIDATION_FAILED', `to: at most ${maxBuckets} buckets per query`, { field: 'to' });
  }
}

const utc = (zone: string): boolean => ['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Z'].includes(zone);

/**
 * One point per bucket from the bucket holding `from` to the one holding the instant before `to`. Counters are summed
 * from hourly rows; distinct sessions and users come from the precomputed per-day and per-week counts in UTC, and are
 * counted from the hourly presence rows in any other zone; adoption is the running sum of its deltas to each bucket's end.
 * Zones whose offset is not a whole hour see hourly counters at the hour they fell in UTC.
 */
export async function analyticsSeries(db: Queryable, query: AnalyticsQuery): Promise<AnalyticsPoint[]> {
  validateAnalyticsQuery(query);
  const d = analyticsDataSchema;
  const unit = query.bucket;
  const tz = query.timeZone;
  const from = query.from.toISOString();
  const to = query.to.toISOString();
  // Buckets as local timestamps in the zone, then back to instants.
  const buckets = await db.query<{ start: Date | string; local: string }>(
    `select (b at time zone $4) as start, b::text as local
       from generate_series(date_trunc($3, $1::timestamptz at time zone $4), date_trunc($3, ($2::timestamptz - interval '1 microsecond') at time zone $4), ('1 ' || $3)::interval) as b`,
    [from, to, unit, tz],
  );
  // In UTC, days and weeks are sums of the daily counters; otherwise (and for hours) of the hourly ones.
  const counterTable = unit !== 'hour' && utc(tz) ? { table: 'daily', time: 'day' } : { table: 'hourly', time: 'hour' };
  // Adoption: the totals before the first bucket, then each bucket's deltas.
  const firstStart = buckets[0] ? new Date(buckets[0].start).toISOString() : from;
  // Independent reads, sent together (postgres.js runs them on the pool's connections side by side).
  const [counters, distinct, base] = await Promise.all([
    db.query<{ local: string; metric: string; key: string; n: string | number }>(
      `select date_trunc($3, ${counterTable.time} at time zone $4)::text as local, metric, key, sum(n) as n
         from ${d}.${counterTable.table}
        where ${counterTable.time} >= date_trunc($3, $1::timestamptz at time zone $4) at time zone $4 and ${counterTable.time} < $2
        group by 1, 2, 3`,
      [from, to, unit, tz],
    ),
    unit === 'hour' || utc(tz)
      ? db.query<{ local: string; kind: string; n: string | number }>(
          `select (bucket at time zone $4)::text as local, kind, n from ${d}.distinct_counts
            where unit = $3 and bucket >= date_trunc($3, $1::timestamptz at time zone $4) at time zone $4 and bucket < $2`,
          [from, to, unit, tz],
        )
      : db.query<{ local: string; kind: string; n: string | number }>(
          `select date_trunc($3, bucket at time zone $4)::text as local, kind, count(distinct id) as n from ${d}.seen
            where unit = 'hour' and bucket >= date_trunc($3, $1::timestamptz at time zone $4) at time zone $4 and bucket < $2 group by 1, 2`,
          [from, to, unit, tz],
        ),
    db.query<{ metric: string; key: string; n: string | number }>(
      `select metric, key, sum(n) as n from ${d}.${counterTable.table} where metric in ('users_delta', 'mfa_users_delta') and ${counterTable.time} < $1 group by 1, 2`, [firstStart],
    ),
  ]);
  const deltas = counters.filter((r) => r.metric === 'users_delta' || r.metric === 'mfa_users_delta');
  const running = { users: 0, any: 0, totp: 0, webauthn: 0 };
  const addDelta = (metric: string, key: string, n: number): void => {
    if (metric === 'users_delta') running.users += n;
    else if (key === 'any' || key === 'totp' || key === 'webauthn') running[key] += n;
  };
  for (const row of base) addDelta(row.metric, row.key, Number(row.n));
  return buckets.map((b) => {
    const local = b.local;
    const mine = counters.filter((r) => r.local === local);
    const sum = (metric: string, key?: string): number => mine.filter((r) => r.metric === metric && (key === undefined || r.key === key)).reduce((a, r) => a + Number(r.n), 0);
    const byKey = (metric: string, keys: readonly string[]): Record<string, number> => {
      const out: Record<string, number> = Object.fromEntries(keys.map((k) => [k, 0]));
      for (const r of mine.filter((r) => r.metric === metric)) out[r.key] = (out[r.key] ?? 0) + Number(r.n);
      return out;
    };
    for (const row of deltas.filter((r) => r.local === local)) addDelta(row.metric, row.key, Number(row.n));
    const firstFactors = sum('first_factors');
    const seen = (kind: string): number => Number(distinct.find((r) => r.local === local && r.kind === kind)?.n ?? 0);
    return {
      start: new Date(b.start),
      logins: byKey('logins', loginMethods),
      outcomes: byKey('login_outcomes', loginOutcomes),
      failures: sum('failures'),
      backoffs: sum('backoffs'),
      lockouts: sum('lockouts'),
      recoveryCodesUsed: sum('recovery_codes_used'),
      newDeviceLogins: sum('new_device_logins'),
      detections: sum('detections'),
      activeSessions: seen('session'),
      activeUsers: seen('user'),
      signups: sum('signups'),
      firstFactors,
      averageSecondsToEnrol: firstFactors === 0 ? null : Math.round((sum('enrol_seconds') / firstFactors) * 10) / 10,
      factorsEnrolled: byKey('factors_enrolled', ['totp', 'webauthn']),
      factorsRemoved: byKey('factors_removed', ['totp', 'webauthn']),
      users: running.users,
      usersWithFactor: running.any,
      usersWithTotp: running.totp,
      usersWithWebAuthn: running.webauthn,
    };
  });
}

/** The CSV columns, in order: one per number of a point (logins and outcomes one column per method and outcome). */
export const csvColumns: ReadonlyArray<{ name: string; value: (p: AnalyticsPoint) => string | number | null }> = [
  { name: 'bucket_start', value: (p) => p.start.toISOString() },
  ...loginMethods.map((m) => ({ name: `logins_${m.replaceAll('+', '_')}`, value: (p: AnalyticsPoint) => p.logins[m] ?? 0 })),
  ...loginOutcomes.map((o) => ({ name: `outcome_${o}`, value: (p: AnalyticsPoint) => p.outcomes[o] ?? 0 })),
  { name: 'failures', value: (p) => p.failures },
  { name: 'backoffs', value: (p) => p.backoffs },
  { name: 'lockouts', value: (p) => p.lockouts },
  { name: 'recovery_codes_used', value: (p) => p.recoveryCodesUsed },
  { name: 'new_device_logins', value: (p) => p.newDeviceLogins },
  { name: 'detections', value: (p) => p.detections },
  { name: 'active_sessions', value: (p) => p.activeSessions },
  { name: 'active_users', value: (p) => p.activeUsers },
  { name: 'signups', value: (p) => p.signups },
  { name: 'first_factors', value: (p) => p.firstFactors },
  { name: 'average_seconds_to_enrol', value: (p) => p.averageSecondsToEnrol },
  { name: 'totp_enrolled', value: (p) => p.factorsEnrolled.totp ?? 0 },
  { name: 'webauthn_enrolled', value: (p) => p.factorsEnrolled.webauthn ?? 0 },
  { name: 'totp_removed', value: (p) => p.factorsRemoved.totp ?? 0 },
  { name: 'webauthn_removed', value: (p) => p.factorsRemoved.webauthn ?? 0 },
  { name: 'users', value: (p) => p.users },
  { name: 'users_with_factor', value: (p) => p.usersWithFactor },
  { name: 'users_with_totp', value: (p) => p.usersWithTotp },
  { name: 'users_with_webauthn', value: (p) => p.usersWithWebAuthn },
];

/** RFC 4180 CSV with a header line; every value is a number, a date or empty, so nothing needs quoting. */
export function analyticsCsv(points: readonly AnalyticsPoint[]): string {
  const lines = [csvColumns.map((c) => c.name).join(',')];
  for (const point of points) lines.push(csvColumns.map((c) => { const v = c.value(point); return v === null ? '' : String(v); }).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
