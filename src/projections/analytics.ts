// The analyst's figures, computed from the sessions, users and audit read models (no table of its own, so nothing
// here can drift from the log: it is rebuilt whenever they are).
import type { Queryable } from '../db/index.js';
import { liveSchema } from './projector.js';

export interface Period {
  from: Date;
  to: Date;
}

/** Sessions started in the period, by the strongest method used (the last one of the login). */
export async function loginsByMethod(q: Queryable, period: Period): Promise<Array<{ method: string; count: number }>> {
  return q.query(
    `select coalesce(methods -> -1 ->> 'method', 'unknown') as method, count(*)::int as count
       from ${liveSchema}.sessions where created_at >= $1 and created_at < $2
      group by 1 order by 2 desc, 1`,
    [period.from.toISOString(), period.to.toISOString()],
  );
}

export async function activeSessionCount(q: Queryable, now: Date, idleSeconds: number, absoluteSeconds: number): Promise<number> {
  const [row] = await q.query<{ count: number }>(
    `select count(*)::int as count from ${liveSchema}.sessions
      where ended_at is null and last_seen_at > $1 and created_at > $2`,
    [new Date(now.getTime() - idleSeconds * 1000).toISOString(), new Date(now.getTime() - absoluteSeconds * 1000).toISOString()],
  );
  return row!.count;
}

/** Users with a second factor now: more TOTP activations than deactivations, or more keys registered than removed. */
export async function mfaAdoption(q: Queryable): Promise<{ users: number; withSecondFactor: number }> {
  const [row] = await q.query<{ users: number; with_factor: number }>(
    `with factors as (
       select user_id,
              count(*) filter (where type = 'TotpActivated') - count(*) filter (where type = 'TotpDeactivated') as totp,
              count(*) filter (where type = 'WebAuthnCredentialRegistered') - count(*) filter (where type = 'WebAuthnCredentialRemoved') as keys
         from ${liveSchema}.audit_events
        where type in ('TotpActivated', 'TotpDeactivated', 'WebAuthnCredentialRegistered', 'WebAuthnCredentialRemoved')
        group by user_id)
     select (select count(*)::int from ${liveSchema}.users where not deleted) as users,
            (select count(*)::int from factors f join ${liveSchema}.users u using (user_id) where not u.deleted and (f.totp > 0 or f.keys > 0)) as with_factor`,
  );
  return { users: row!.users, withSecondFactor: row!.with_factor };
}

const failureTypes = ['PasswordRejected', 'MfaFailed', 'TotpCodeRejected', 'RecoveryCodeRejected', 'WebAuthnAssertionRejected', 'WebAuthnCloneSuspected'];

/**
 * Login attempts are password logins started plus MFA steps answered; failures are the rejected ones of those two.
 * `byType` also breaks down the factor-level rejections (which include reauthentication attempts).
 */
export async function authenticationFailures(q: Queryable, period: Period): Promise<{ attempts: number; failures: number; byType: Array<{ type: string; count: number }> }> {
  const rows = await q.query<{ type: string; count: number }>(
    `select type, count(*)::int as count from ${liveSchema}.audit_events
      where recorded_at >= $1 and recorded_at < $2 and type = any($3)
      group by type order by type`,
    [period.from.toISOString(), period.to.toISOString(), [...failureTypes, 'LoginStarted', 'MfaSucceeded']],
  );
  const count = (type: string): number => rows.find((r) => r.type === type)?.count ?? 0;
  return {
    attempts: count('LoginStarted') + count('MfaSucceeded') + count('MfaFailed'),
    failures: count('PasswordRejected') + count('MfaFailed'),
    byType: rows.filter((r) => failureTypes.includes(r.type)),
  };
}
