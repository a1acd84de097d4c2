// The documented SQL views for any PostgreSQL client (Grafana, Metabase, psql), in a schema of their own. They read
// only the analysis tables (analytics_data), never the log or the other projections, so a rebuild of those does not
// drop them; a rebuild of the analysis tables drops and recreates them, with their grants (application/analytics.ts).
// Days and weeks are UTC; weeks start on Monday (ISO 8601). No secret, email, address or user agent is in any of them.
import type { Queryable } from '../db/index.js';
import { analyticsDataSchema } from './analyticsStore.js';

export const analyticsViewSchema = 'analytics';

const d = analyticsDataSchema;

/** A day-by-day sum of additive counters. */
const daily = (metric: string, keyAs: string | null, valueAs: string): string => `
  select (date_trunc('day', hour at time zone 'UTC'))::date as day${keyAs ? `, key as ${keyAs}` : ''}, sum(n)::bigint as ${valueAs}
    from ${d}.hourly where metric = '${metric}' group by 1${keyAs ? ', 2' : ''}`;

/** Every view, in creation order, with its description (also the README's list). */
export const analyticsViews: ReadonlyArray<{ name: string; description: string; sql: string }> = [
  {
    name: 'logins_hourly',
    description: 'Completed logins per UTC hour and method (password, password+totp, password+recovery_code, password+webauthn, passkey, trusted_device).',
    sql: `select hour, key as method, n::bigint as logins from ${d}.hourly where metric = 'logins'`,
  },
  { name: 'logins_daily', description: 'Completed logins per UTC day and method.', sql: daily('logins', 'method', 'logins') },
  {
    name: 'login_outcomes_daily',
    description: 'Login attempts per UTC day by outcome: completed, password_rejected, mfa_failed (one per failed code), expired, abandoned.',
    sql: daily('login_outcomes', 'outcome', 'count'),
  },
  {
    name: 'active_sessions_daily',
    description: 'Sessions and users seen per UTC day (a session counts on each day it started, recorded activity or reauthenticated).',
    sql: `select s.bucket::date as day, s.n::bigint as sessions, coalesce(u.n, 0)::bigint as users
            from ${d}.distinct_counts s left join ${d}.distinct_counts u on u.unit = 'day' and u.kind = 'user' and u.bucket = s.bucket
           where s.unit = 'day' and s.kind = 'session'`,
  },
  {
    name: 'active_sessions_weekly',
    description: 'Sessions and users seen per ISO week (starting Monday, UTC).',
    sql: `select s.bucket::date as week, s.n::bigint as sessions, coalesce(u.n, 0)::bigint as users
            from ${d}.distinct_counts s left join ${d}.distinct_counts u on u.unit = 'week' and u.kind = 'user' and u.bucket = s.bucket
           where s.unit = 'week' and s.kind = 'session'`,
  },
  {
    name: 'mfa_adoption_daily',
    description: 'At the end of each UTC day: registered (not deleted) users, those with at least one second factor, by factor type, and the share.',
    sql: `with days as (
            select generate_series(date_trunc('day', min(hour) at time zone 'UTC'), date_trunc('day', max(hour) at time zone 'UTC'), interval '1 day') as day
              from ${d}.hourly where metric in ('users_delta', 'mfa_users_delta')),
          deltas as (
            select date_trunc('day', hour at time zone 'UTC') as day,
                   sum(n) filter (where metric = 'users_delta') as users,
                   sum(n) filter (where metric = 'mfa_users_delta' and key = 'any') as with_factor,
                   sum(n) filter (where metric = 'mfa_users_delta' and key = 'totp') as with_totp,
                   sum(n) filter (where metric = 'mfa_users_delta' and key = 'webauthn') as with_webauthn
              from ${d}.hourly where metric in ('users_delta', 'mfa_users_delta') group by 1),
          running as (
            select days.day::date as day,
                   sum(coalesce(users, 0)) over w as users, sum(coalesce(with_factor, 0)) over w as with_factor,
                   sum(coalesce(with_totp, 0)) over w as with_totp, sum(coalesce(with_webauthn, 0)) over w as with_webauthn
              from days left join deltas using (day) window w as (order by days.day))
          select day, users::bigint, with_factor::bigint as users_with_factor, with_totp::bigint as users_with_totp,
                 with_webauthn::bigint as users_with_webauthn,
                 case when users = 0 then 0 else round(with_factor::numeric / users, 4) end as adoption
            from running`,
  },
  {
    name: 'enrolment_daily',
    description: 'Per UTC day: signups, users enrolling their first second factor, and the average seconds from signup to that first factor.',
    sql: `select (date_trunc('day', hour at time zone 'UTC'))::date as day,
                 sum(n) filter (where metric = 'signups')::bigint as signups,
                 coalesce(sum(n) filter (where metric = 'first_factors'), 0)::bigint as first_factors,
                 round(sum(n) filter (where metric = 'enrol_seconds')::numeric / nullif(sum(n) filter (where metric = 'first_factors'), 0), 1) as average_seconds_to_enrol
            from ${d}.hourly where metric in ('signups', 'first_factors', 'enrol_seconds') group by 1`,
  },
  {
    name: 'factors_daily',
    description: 'Second factors enrolled and removed per UTC day, by type (totp, webauthn).',
    sql: `select (date_trunc('day', hour at time zone 'UTC'))::date as day, key as factor,
                 coalesce(sum(n) filter (where metric = 'factors_enrolled'), 0)::bigint as enrolled,
                 coalesce(sum(n) filter (where metric = 'factors_removed'), 0)::bigint as removed
            from ${d}.hourly where metric in ('factors_enrolled', 'factors_removed') group by 1, 2`,
  },
  {
    name: 'security_daily',
    description: 'Per UTC day: rejected secrets (failures), back-offs begun, lockouts, recovery codes used, logins from a new device, detections.',
    sql: `select (date_trunc('day', hour at time zone 'UTC'))::date as day,
                 coalesce(sum(n) filter (where metric = 'failures'), 0)::bigint as failures,
                 coalesce(sum(n) filter (where metric = 'backoffs'), 0)::bigint as backoffs,
                 coalesce(sum(n) filter (where metric = 'lockouts'), 0)::bigint as lockouts,
                 coalesce(sum(n) filter (where metric = 'recovery_codes_used'), 0)::bigint as recovery_codes_used,
                 coalesce(sum(n) filter (where metric = 'new_device_logins'), 0)::bigint as new_device_logins,
                 coalesce(sum(n) filter (where metric = 'detections'), 0)::bigint as detections
            from ${d}.hourly where metric in ('failures', 'backoffs', 'lockouts', 'recovery_codes_used', 'new_device_logins', 'detections') group by 1`,
  },
  {
    name: 'failures_daily',
    description: 'Rejected secrets per UTC day by event type (PasswordRejected, TotpCodeRejected, RecoveryCodeRejected, …).',
    sql: daily('failures', 'event_type', 'failures'),
  },
  {
    name: 'detections',
    description: 'Suspicious activity detected: kind, window and counts (the addresses themselves are in the SuspiciousActivityDetected event, for auditors).',
    sql: `select detection_id, kind, window_start, window_end, accounts as account_count, addresses as address_count, failures, throttled_until from ${d}.detections`,
  },
];

/** Creates (or replaces) every view; the caller holds the analytics leader lock. */
export async function createAnalyticsViews(tx: Queryable): Promise<void> {
  await tx.query(`create schema if not exists ${analyticsViewSchema}`);
  for (const view of analyticsViews) {
    await tx.query(`create or replace view ${analyticsViewSchema}.${view.name} as ${view.sql}`);
    await tx.query(`comment on view ${analyticsViewSchema}.${view.name} is '${view.description.replaceAll("'", "''")}'`);
  }
}
