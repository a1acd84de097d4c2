// Consecutive failed verifications per account, from the log: every rejected secret on every path adds one; a
// completed login, a reauthentication or an administrator's unlock of that same account resets it. Nothing another
// account does touches the row, so an attacker's own success elsewhere resets nothing of the victim's.
import type { Queryable } from '../db/index.js';
import type { AuthenticatorEvent } from '../domain/authenticators/events.js';
import type { LoginEvent } from '../domain/login/events.js';
import type { SessionEvent } from '../domain/session/events.js';
import type { UserEvent } from '../domain/user/events.js';
import { isOneOf, liveSchema, sql, type Handled, type Projector, type Recorded, type SqlStatement } from './projector.js';

/**
 * One event per rejected secret. MfaFailed is left out on purpose: it is the login flow's echo of the factor's own
 * rejection (TotpCodeRejected, RecoveryCodeRejected, WebAuthnAssertionRejected) and would count one attempt twice.
 */
export const failureEventTypes = [
  'PasswordRejected', 'ReauthenticationRejected', 'TotpCodeRejected', 'TotpActivationRejected', 'RecoveryCodeRejected', 'WebAuthnAssertionRejected',
] as const;
export const successEventTypes = ['LoginCompleted', 'SessionReauthenticated', 'UserUnlocked'] as const;
const handles = [...failureEventTypes, ...successEventTypes] as const;
type AccountFailureEvent = Handled<UserEvent | LoginEvent | AuthenticatorEvent | SessionEvent, typeof handles>;

export const accountFailuresProjector: Projector<AccountFailureEvent> = {
  name: 'account_failures',
  version: 2,
  handles,
  tables: [{ name: 'account_failures', orderBy: 'user_id' }],
  ddl: (s) => `
    create table ${s}.account_failures (
      user_id         text primary key,
      consecutive     integer not null default 0,
      last_failure_at timestamptz
    )`,
  project(event: Recorded<AccountFailureEvent>, s: string): SqlStatement[] {
    // A password rejected for an unknown email has no account to count against.
    if (!event.data.userId) return [];
    if (isOneOf(failureEventTypes, event)) {
      return [sql(
        `insert into ${s}.account_failures (user_id, consecutive, last_failure_at) values ($1, 1, $2)
         on conflict (user_id) do update set consecutive = ${s}.account_failures.consecutive + 1, last_failure_at = excluded.last_failure_at`,
        event.data.userId, event.data.at,
      )];
    }
    // A lock running out (by 'timeout') keeps the count: the next failure locks again, so the cap is never reached.
    if (event.type === 'UserUnlocked' && event.data.by !== 'admin') return [];
    return [sql(`update ${s}.account_failures set consecutive = 0 where user_id = $1`, event.data.userId)];
  },
};

export async function consecutiveFailures(q: Queryable, userId: string): Promise<{ consecutive: number; lastFailureAt: Date | null }> {
  const [row] = await q.query<{ consecutive: number; last_failure_at: Date | string | null }>(
    `select consecutive, last_failure_at from ${liveSchema}.account_failures where user_id = $1`, [userId],
  );
  if (!row) return { consecutive: 0, lastFailureAt: null };
  return { consecutive: Number(row.consecutive), lastFailureAt: row.last_failure_at ? new Date(row.last_failure_at) : null };
}
