// Each account's MFA status for administrators (the `users` query, `tessera users list`): which factors it has, when
// a second factor was last used, the administrator's requirement and the dates the role policy's deadline is computed
// from. One row per account, kept by the events, so listing users never folds their streams.
import type { Queryable } from '../db/index.js';
import type { AuthenticatorEvent } from '../domain/authenticators/events.js';
import type { UserEvent } from '../domain/user/events.js';
import { isOneOf, liveSchema, sql, type Handled, type Projector, type Recorded, type SqlStatement } from './projector.js';

const handles = [
  'UserRegistered', 'RoleGranted', 'RoleRevoked', 'MfaPolicyApplied', 'MfaPolicyLifted',
  'TotpActivated', 'TotpDeactivated', 'WebAuthnCredentialRegistered', 'WebAuthnCredentialRemoved',
  'TotpCodeAccepted', 'WebAuthnAssertionAccepted', 'RecoveryCodeUsed',
  'EmailCodeActivated', 'EmailCodeRemoved', 'EmailCodeAccepted',
] as const;
type UserMfaEvent = Handled<UserEvent | AuthenticatorEvent, typeof handles>;

export const userMfaProjector: Projector<UserMfaEvent> = {
  name: 'user_mfa',
  version: 1,
  handles,
  tables: [{ name: 'user_mfa', orderBy: 'user_id' }],
  ddl: (s) => `
    create table ${s}.user_mfa (
      user_id         text primary key,
      created_at      timestamptz not null,
      totp            boolean not null default false,
      webauthn_ids    text[] not null default '{}',
      email           boolean not null default false,
      last_mfa_at     timestamptz,
      mfa_required_by timestamptz,
      -- role -> when granted: the role policy's grace period runs from the later of this and registration
      role_granted_at jsonb not null default '{}'
    )`,
  project(event: Recorded<UserMfaEvent>, s: string): SqlStatement[] {
    const userId = event.data.userId;
    const set = (assignment: string, ...params: unknown[]) => [sql(`update ${s}.user_mfa set ${assignment} where user_id = $1`, userId, ...params)];
    switch (event.type) {
      case 'UserRegistered':
        return [sql(`insert into ${s}.user_mfa (user_id, created_at) values ($1, $2)`, userId, event.data.at)];
      case 'RoleGranted':
        return set(`role_granted_at = role_granted_at || jsonb_build_object($2::text, $3::text)`, event.data.role, event.data.at);
      case 'RoleRevoked':
        return set(`role_granted_at = role_granted_at - $2::text`, event.data.role);
      case 'MfaPolicyApplied':
        return set(`mfa_required_by = $2`, event.data.deadline);
      case 'MfaPolicyLifted':
        return set(`mfa_required_by = null`);
      case 'TotpActivated':
        return set(`totp = true`);
      case 'TotpDeactivated':
        return set(`totp = false`);
      case 'WebAuthnCredentialRegistered':
        return set(`webauthn_ids = array_append(array_remove(webauthn_ids, $2), $2)`, event.data.authenticatorId);
      case 'WebAuthnCredentialRemoved':
        return set(`webauthn_ids = array_remove(webauthn_ids, $2)`, event.data.authenticatorId);
      case 'EmailCodeActivated':
        return set(`email = true`);
      case 'EmailCodeRemoved':
        return set(`email = false`);
      case 'TotpCodeAccepted':
      case 'WebAuthnAssertionAccepted':
      case 'RecoveryCodeUsed':
      case 'EmailCodeAccepted':
        return set(`last_mfa_at = greatest(last_mfa_at, $2::timestamptz)`, event.data.at);
    }
  },
  /**
   * A rebuild replays thousands of registrations and factor uses a batch. Every other event of an account comes after
   * its registration, so the batch's new rows go first, in one statement; a factor's use only ever moves
   * `last_mfa_at` forward (greatest), which no other event touches, so every use goes in one statement last; the rest
   * run one by one, in order, between them.
   */
  projectBatch(events, s) {
    const registered: Array<{ user_id: string; created_at: string }> = [];
    const lastUse = new Map<string, string>();
    const others: SqlStatement[] = [];
    for (const event of events) {
      if (event.type === 'UserRegistered') registered.push({ user_id: event.data.userId, created_at: event.data.at });
      else if (isOneOf(factorUses, event)) {
        const at = lastUse.get(event.data.userId);
        if (at === undefined || Date.parse(event.data.at) > Date.parse(at)) lastUse.set(event.data.userId, event.data.at);
      } else others.push(...userMfaProjector.project(event, s));
    }
    const first = registered.length === 0 ? [] : [sql(
      `insert into ${s}.user_mfa (user_id, created_at) select r.user_id, r.created_at from jsonb_to_recordset($1::text::jsonb) as r(user_id text, created_at timestamptz)`,
      JSON.stringify(registered),
    )];
    if (lastUse.size === 0) return [...first, ...others];
    return [...first, ...others, sql(
      `update ${s}.user_mfa t set last_mfa_at = greatest(t.last_mfa_at, r.at)
         from jsonb_to_recordset($1::text::jsonb) as r(user_id text, at timestamptz) where t.user_id = r.user_id`,
      JSON.stringify([...lastUse].map(([userId, at]) => ({ user_id: userId, at }))),
    )];
  },
};

/** The events that record a second factor's use. */
const factorUses = ['TotpCodeAccepted', 'WebAuthnAssertionAccepted', 'RecoveryCodeUsed', 'EmailCodeAccepted'] as const;

export interface UserMfaRow {
  user_id: string;
  email: string;
  roles: string[];
  created_at: Date;
  totp: boolean;
  webauthn_count: number;
  email_factor: boolean;
  last_mfa_at: Date | null;
  mfa_required_by: Date | null;
  role_granted_at: Record<string, string>;
  locked_until: Date | null;
  [key: string]: unknown;
}

export interface UserListFilter {
  role?: string;
  email?: string;
  /** true: only accounts without a strong second factor; false: only accounts with one. */
  withoutStrongFactor?: boolean;
}

/** One page of accounts by id, after `after` (an id), with their MFA status: one indexed read. */
export async function listUsersWithMfa(q: Queryable, page: { first: number; after: string | null; filter: UserListFilter }): Promise<UserMfaRow[]> {
  const { role, email, withoutStrongFactor } = page.filter;
  return q.query<UserMfaRow>(
    `select u.user_id, u.email, u.roles, u.created_at, u.locked_until, m.totp, cardinality(m.webauthn_ids) as webauthn_count, m.email as email_factor,
            m.last_mfa_at, m.mfa_required_by, m.role_granted_at
       from ${liveSchema}.users u join ${liveSchema}.user_mfa m on m.user_id = u.user_id
      where not u.deleted and ($1::text is null or u.user_id > $1)
        and ($2::text is null or $2 = any(u.roles)) and ($3::text is null or u.email = $3)
        and ($4::boolean is null or $4 = not (m.totp or cardinality(m.webauthn_ids) > 0))
      order by u.user_id limit $5`,
    [page.after, role ?? null, email ?? null, withoutStrongFactor ?? null, page.first],
  );
}
