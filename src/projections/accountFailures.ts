// Consecutive failed verifications per account, from the log: every rejected secret on every path adds one; a
// completed login, a reauthentication or an administrator's unlock of that same account resets it. Nothing another
// account does touches the row, so an attacker's own success elsewhere resets nothing of the victim's.
import type { Queryable } from '../db/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { liveSchema, sql, type Projector, type SqlStatement } from './projector.js';

/**
 * One event per rejected secret. MfaFailed is left out on purpose: it is the login flow's echo of the factor's own
 * rejection (TotpCodeRejected, RecoveryCodeRejected, WebAuthnAssertionRejected) and would count one attempt twice.
 */
export const failureEventTypes = [
  'PasswordRejected', 'ReauthenticationRejected', 'TotpCodeRejected', 'TotpActivationRejected', 'RecoveryCodeRejected', 'WebAuthnAssertionRejected',
] as const;
export const successEventTypes = ['LoginCompleted', 'SessionReauthenticated', 'UserUnlocked'] as const;

export const accountFailuresProjector: Projector = {
  name: 'account_failures',
  version: 2,
  handles: [...failureEventTypes, ...successEventTypes],
  tables: [{ name: 'account_failures', orderBy: 'user_id' }],
  ddl: (s) => `
    create table ${s}.account_failures (
      user_id         text primary key,
      consecutive     integer not null default 0,
      last_failure_at timestamptz
    )`,
  project(event: RecordedEvent, s: string): SqlStatement[] {
    const d = event.data as Record<string, string | null>;
    if (!d.userId) return [];
    if ((failureEventTypes as readonly string[]).includes(event.type)) {
      return [sql(
        `insert into ${s}.account_failures (user_id, consecutive, last_failure_at) values ($1, 1, $2)
         on conflict (user_id) do update set consecutive = ${s}.account_failures.consecutive + 1, last_failure_at = excluded.last_failure_at`,
        d.userId, d.at,
      )];
    }
    // A lock running out (by 'timeout') keeps the count: the next failure locks again, so the cap is never reached.
    if (event.type === 'UserUnlocked' && d.by !== 'admin') return [];
    return [sql(`update ${s}.account_failures set consecutive = 0 where user_id = $1`, d.userId)];
  },
};

export async function consecutiveFailures(q: Queryable, userId: string): Promise<{ consecutive: number; lastFailureAt: Date | null }> {
  const [row] = await q.query<{ consecutive: number; last_failure_at: Date | string | null }>(
    `select consecutive, last_failure_at from ${liveSchema}.account_failures where user_id = $1`, [userId],
  );
  if (!row) return { consecutive: 0, lastFailureAt: null };
  return { consecutive: Number(row.consecutive), lastFailureAt: row.last_failure_at ? new Date(row.last_failure_at) : null };
}
