// Accounts by id and by email: what login looks up first, and what `me` shows. No address in clear: `email_hash` is
// its keyed hash (the lookup), `email` the envelope the event stored (sealed under the user's key, opened for display);
// both are cleared when the person is deleted or erased.
import type { Queryable } from '../db/index.js';
import type { UserEvent } from '../domain/user/events.js';
import { untrustedBucket } from '../domain/user/state.js';
import type { FailureRecord } from '../domain/user/lockout.js';
import { standingOf } from './accountFailures.js';
import { BatchFold, type Column } from './batch.js';
import { readAheadOf, type ReadAheadRow, type RecordedEvent } from '../eventstore/index.js';
import { liveSchema, sql, type Handled, type Projector, type ReadAheadJoin, type Recorded, type SqlStatement } from './projector.js';

const handles = ['UserRegistered', 'PasswordChanged', 'EmailChanged', 'RoleGranted', 'RoleRevoked', 'UserLocked', 'UserUnlocked', 'UserDeleted', 'UserErased', 'MfaPolicyApplied', 'MfaPolicyLifted'] as const;

/** The stored envelope of a personal field (what a rebuild copies too), never the clear value. */
export function sealedField(event: RecordedEvent, field: string): string | null {
  return event.personal?.data[field] ?? null;
}

/** The keyed hash of the event's email, computed by the vault on read (null once the person is erased). */
function emailHashOf(event: RecordedEvent): string | null {
  return event.personal?.hashes?.email ?? null;
}
type UsersEvent = Handled<UserEvent, typeof handles>;

/**
 * `locked_until` is the lock strangers can cause: the one on every unknown device together (a known device's own lock
 * concerns that device only). An administrator's unlock, which names no bucket, ends it too.
 */
function locksUnknownDevices(event: { data: { bucket?: string } }): boolean {
  return event.data.bucket === undefined || event.data.bucket === untrustedBucket;
}

export const usersProjector: Projector<UsersEvent> = {
  name: 'users',
  version: 4,
  handles,
  tables: [{ name: 'users', orderBy: 'user_id' }],
  ddl: (s) => `
    create table ${s}.users (
      user_id      text primary key,
      email        text,
      email_hash   text,
      roles        text[] not null default '{}',
      created_at   timestamptz not null,
      locked_until timestamptz,
      deleted      boolean not null default false,
      has_password boolean not null default true,
      -- an administrator's deadline for a second factor (requireMfa): read with the session on every request
      mfa_required_by timestamptz
    );
    create index on ${s}.users (email_hash) where not deleted`,
  project(event: Recorded<UsersEvent>, s: string): SqlStatement[] {
    switch (event.type) {
      case 'UserRegistered':
        return [sql(`insert into ${s}.users (user_id, email, email_hash, created_at, has_password) values ($1, $2, $3, $4, $5)`, event.data.userId, sealedField(event, 'email'), emailHashOf(event), event.data.at, event.data.passwordHash !== null)];
      case 'PasswordChanged':
        return [sql(`update ${s}.users set has_password = true where user_id = $1`, event.data.userId)];
      case 'EmailChanged':
        return [sql(`update ${s}.users set email = $2, email_hash = $3 where user_id = $1`, event.data.userId, sealedField(event, 'email'), emailHashOf(event))];
      case 'RoleGranted':
        return [sql(`update ${s}.users set roles = array_append(array_remove(roles, $2), $2) where user_id = $1`, event.data.userId, event.data.role)];
      case 'RoleRevoked':
        return [sql(`update ${s}.users set roles = array_remove(roles, $2) where user_id = $1`, event.data.userId, event.data.role)];
      case 'UserLocked':
        if (!locksUnknownDevices(event)) return [];
        return [sql(`update ${s}.users set locked_until = $2 where user_id = $1`, event.data.userId, event.data.until)];
      case 'UserUnlocked':
        if (!locksUnknownDevices(event)) return [];
        return [sql(`update ${s}.users set locked_until = null where user_id = $1`, event.data.userId)];
      case 'UserDeleted':
        return [sql(`update ${s}.users set deleted = true, email = null, email_hash = null where user_id = $1`, event.data.userId)];
      case 'UserErased':
        return [sql(`update ${s}.users set email = null, email_hash = null where user_id = $1`, event.data.userId)];
      case 'MfaPolicyApplied':
        return [sql(`update ${s}.users set mfa_required_by = $2 where user_id = $1`, event.data.userId, event.data.deadline)];
      case 'MfaPolicyLifted':
        return [sql(`update ${s}.users set mfa_required_by = null where user_id = $1`, event.data.userId)];
    }
  },
  projectBatch(events: readonly Recorded<UsersEvent>[], s: string): SqlStatement[] {
    const fold = new BatchFold<UserDraft>();
    for (const event of events) {
      const userId = event.data.userId;
      if (event.type === 'UserRegistered') {
        fold.create(userId, { user_id: userId, email: sealedField(event, 'email'), email_hash: emailHashOf(event), roles: [], created_at: event.data.at, locked_until: null, deleted: false, has_password: event.data.passwordHash !== null, mfa_required_by: null });
        continue;
      }
      const set = (column: keyof UserDraft, value: unknown) => fold.change(userId, (row) => { (row as Record<string, unknown>)[column] = value; }, (p) => { p.set[column] = value; });
      switch (event.type) {
        case 'EmailChanged': set('email', sealedField(event, 'email')); set('email_hash', emailHashOf(event)); break;
        case 'PasswordChanged': set('has_password', true); break;
        case 'UserLocked': if (locksUnknownDevices(event)) set('locked_until', event.data.until); break;
        case 'UserUnlocked': if (locksUnknownDevices(event)) set('locked_until', null); break;
        case 'UserDeleted': set('deleted', true); set('email', null); set('email_hash', null); break;
        case 'UserErased': set('email', null); set('email_hash', null); break;
        case 'MfaPolicyApplied': set('mfa_required_by', event.data.deadline); break;
        case 'MfaPolicyLifted': set('mfa_required_by', null); break;
        case 'RoleGranted':
        case 'RoleRevoked': {
          const role = event.data.role;
          const grant = event.type === 'RoleGranted';
          fold.change(userId, (row) => {
            row.roles = [...row.roles.filter((r) => r !== role), ...(grant ? [role] : [])];
          }, (p) => {
            // Over a run of grants and revokes, a role ends absent, or at the end after the roles granted before it:
            // remove every touched role, then append the ones whose last change is a grant, in that order.
            const touched = (p.relative.roles_touched ??= []) as string[];
            const granted = ((p.relative.roles_granted ??= []) as string[]).filter((r) => r !== role);
            if (!touched.includes(role)) touched.push(role);
            p.relative.roles_granted = grant ? [...granted, role] : granted;
          });
          break;
        }
      }
    }
    return fold.statements(`${s}.users`, userColumns[0]!, userColumns, {
      targets: ['roles'],
      columns: [{ name: 'roles_touched', type: 'text[]' }, { name: 'roles_granted', type: 'text[]' }],
      assignments: [
        `roles = case when r.roles_touched is null then t.roles
                 else array(select x from unnest(t.roles) with ordinality u(x, i) where x <> all(r.roles_touched) order by i) || r.roles_granted end`,
      ],
    });
  },
};

interface UserDraft extends Record<string, unknown> {
  user_id: string;
  email: string | null;
  email_hash: string | null;
  roles: string[];
  created_at: string;
  locked_until: string | null;
  deleted: boolean;
  has_password: boolean;
  mfa_required_by: string | null;
}

const userColumns: Column[] = [
  { name: 'user_id', type: 'text' }, { name: 'email', type: 'text' }, { name: 'email_hash', type: 'text' }, { name: 'roles', type: 'text[]' },
  { name: 'created_at', type: 'timestamptz' }, { name: 'locked_until', type: 'timestamptz' }, { name: 'deleted', type: 'boolean' },
  { name: 'has_password', type: 'boolean' }, { name: 'mfa_required_by', type: 'timestamptz' },
];

export interface UserRow {
  user_id: string;
  /** The sealed address (open it with the vault before showing it). */
  email: string | null;
  roles: string[];
  created_at: Date;
  locked_until: Date | null;
  [key: string]: unknown;
}

/** By the email's keyed hash (PersonalDataHashes.email), never by the address. */
export async function findUserByEmail(q: Queryable, emailHash: string): Promise<UserRow | undefined> {
  const [row] = await q.query<UserRow>(`select * from ${liveSchema}.users where email_hash = $1 and not deleted`, [emailHash]);
  return row;
}

export interface LoginTarget {
  user_id: string;
  /** False for a passkey-only account: a password tried on it verifies no secret of it. */
  has_password: boolean;
  /** What the requesting device is to the account: known (a login completed there), trusted until when. */
  device_known: boolean;
  trusted_until: Date | null;
  /** The account's wrapped data key, read in the same statement so sealing the login's events needs no round trip. */
  wrapped_key: string | null;
  /** The failures and lock of the bucket this device's attempts count in (its own if known, else the shared one). */
  standing: FailureRecord;
  /** What the login read ahead with it (findLoginTarget's `readAhead`). */
  readAhead?: ReadAheadRow;
  [key: string]: unknown;
}

/**
 * Password login's first read, one statement: the account behind an email and what the requesting device is to it;
 * with `readAhead`, also what the login reads and draws next (it may use the account's `u.user_id`, the device row's
 * `d.device_id` and `d.trusted_until`, and `mfa.any_factor`: whether the account has a second factor, as the
 * administrators' list shows it; its params are numbered from $3).
 */
export async function findLoginTarget(q: Queryable, emailHash: string, deviceId: string | null, readAhead?: ReadAheadJoin): Promise<LoginTarget | undefined> {
  const rows = await q.query<LoginTarget>(
    `select u.user_id, u.has_password, d.device_id is not null as device_known, d.trusted_until, k.wrapped_key,
            f.consecutive, f.last_failure_at, f.locked_until${readAhead ? ', ahead.*' : ''}
       from ${liveSchema}.users u left join ${liveSchema}.devices d on d.user_id = u.user_id and d.device_id = $2
       left join personal_data_keys k on k.subject_id = u.user_id
       left join ${liveSchema}.account_failures f on f.user_id = u.user_id and f.bucket = coalesce(d.device_id, '${untrustedBucket}')${readAhead ? `
       left join lateral (select m.totp or m.email or cardinality(m.webauthn_ids) > 0 as any_factor from ${liveSchema}.user_mfa m where m.user_id = u.user_id) mfa on true
       left join lateral (${readAhead.sql}) ahead on true` : ''}
      where u.email_hash = $1 and not u.deleted`,
    [emailHash, deviceId, ...(readAhead?.params ?? [])],
  );
  const [row] = rows;
  if (!row) return undefined;
  const target: LoginTarget = {
    user_id: row.user_id, has_password: row.has_password, device_known: row.device_known, wrapped_key: row.wrapped_key,
    trusted_until: row.trusted_until ? new Date(row.trusted_until) : null,
    standing: standingOf({ consecutive: row.consecutive as number | null, last_failure_at: row.last_failure_at as Date | null, locked_until: row.locked_until as Date | null }),
  };
  const ahead = readAhead ? readAheadOf(rows) : undefined;
  if (ahead) target.readAhead = ahead;
  return target;
}

export async function findUserById(q: Queryable, userId: string): Promise<UserRow | undefined> {
  const [row] = await q.query<UserRow>(`select * from ${liveSchema}.users where user_id = $1 and not deleted`, [userId]);
  return row;
}
