// Consecutive failed verifications per account, from the log: every rejected secret on every path adds one; a
// completed login, a reauthentication or an administrator's unlock of that same account resets it. Nothing another
// account does touches the row, so an attacker's own success elsewhere resets nothing of the victim's.
import type { Queryable } from '../db/index.js';
import type { AuthenticatorEvent } from '../domain/authenticators/events.js';
import type { LoginEvent } from '../domain/login/events.js';
import type { SessionEvent } from '../domain/session/events.js';
import type { UserEvent } from '../domain/user/events.js';
import { noSecretBucket, untrustedBucket } from '../domain/user/state.js';
import { isOneOf, liveSchema, sql, type Handled, type Projector, type Recorded, type SqlStatement } from './projector.js';

/**
 * One event per rejected secret. MfaFailed is left out on purpose: it is the login flow's echo of the factor's own
 * rejection (TotpCodeRejected, RecoveryCodeRejected, WebAuthnAssertionRejected) and would count one attempt twice.
 */
export const failureEventTypes = [
  'PasswordRejected', 'ReauthenticationRejected', 'TotpCodeRejected', 'TotpActivationRejected', 'RecoveryCodeRejected', 'WebAuthnAssertionRejected',
  'EmailCodeRejected',
] as const;
export const successEventTypes = ['LoginCompleted', 'SessionReauthenticated', 'UserUnlocked'] as const;
const handles = [...failureEventTypes, ...successEventTypes] as const;
type AccountFailureEvent = Handled<UserEvent | LoginEvent | AuthenticatorEvent | SessionEvent, typeof handles>;

/** The attempt bucket an event counts in: the device the use case named, else every unknown device together. */
function bucketOf(event: { metadata: { attemptBucket?: string } }): string {
  return event.metadata.attemptBucket ?? untrustedBucket;
}

export const accountFailuresProjector: Projector<AccountFailureEvent> = {
  name: 'account_failures',
  version: 4,
  handles,
  tables: [{ name: 'account_failures', orderBy: 'user_id, bucket' }],
  ddl: (s) => `
    create table ${s}.account_failures (
      user_id         text not null,
      bucket          text not null,
      consecutive     integer not null default 0,
      last_failure_at timestamptz,
      primary key (user_id, bucket)
    )`,
  project(event: Recorded<AccountFailureEvent>, s: string): SqlStatement[] {
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
    if (event.type === 'UserUnlocked') {
      // A lock running out (by 'timeout') keeps the count: the next failure locks again, so the cap is never reached.
      // An administrator's unlock starts every bucket of the account afresh.
      if (event.data.by !== 'admin') return [];
      return [sql(`update ${s}.account_failures set consecutive = 0 where user_id = $1`, event.data.userId)];
    }
    // A success (a completed login, a reauthentication) resets the bucket it came from, and no other.
    return [sql(`update ${s}.account_failures set consecutive = 0 where user_id = $1 and bucket = $2`, event.data.userId, bucketOf(event))];
  },
};

export async function consecutiveFailures(q: Queryable, userId: string, bucket: string): Promise<{ consecutive: number; lastFailureAt: Date | null }> {
  const [row] = await q.query<{ consecutive: number; last_failure_at: Date | string | null }>(
    `select consecutive, last_failure_at from ${liveSchema}.account_failures where user_id = $1 and bucket = $2`, [userId, bucket],
  );
  if (!row) return { consecutive: 0, lastFailureAt: null };
  return { consecutive: Number(row.consecutive), lastFailureAt: row.last_failure_at ? new Date(row.last_failure_at) : null };
}
