// Accounts by id and by email: what login looks up first, and what `me` shows.
import type { Queryable } from '../db/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { liveSchema, sql, type Projector, type SqlStatement } from './projector.js';

export const usersProjector: Projector = {
  name: 'users',
  version: 1,
  handles: ['UserRegistered', 'EmailChanged', 'RoleGranted', 'RoleRevoked', 'UserLocked', 'UserUnlocked', 'UserDeleted'],
  tables: [{ name: 'users', orderBy: 'user_id' }],
  ddl: (s) => `
    create table ${s}.users (
      user_id      text primary key,
      email        text not null,
      roles        text[] not null default '{}',
      created_at   timestamptz not null,
      locked_until timestamptz,
      deleted      boolean not null default false
    );
    create index on ${s}.users (email) where not deleted`,
  project(event: RecordedEvent, s: string): SqlStatement[] {
    const d = event.data as Record<string, string>;
    switch (event.type) {
      case 'UserRegistered':
        return [sql(`insert into ${s}.users (user_id, email, created_at) values ($1, $2, $3)`, d.userId, d.email, d.at)];
      case 'EmailChanged':
        return [sql(`update ${s}.users set email = $2 where user_id = $1`, d.userId, d.email)];
      case 'RoleGranted':
        return [sql(`update ${s}.users set roles = array_append(array_remove(roles, $2), $2) where user_id = $1`, d.userId, d.role)];
      case 'RoleRevoked':
        return [sql(`update ${s}.users set roles = array_remove(roles, $2) where user_id = $1`, d.userId, d.role)];
      case 'UserLocked':
        return [sql(`update ${s}.users set locked_until = $2 where user_id = $1`, d.userId, d.until)];
      case 'UserUnlocked':
        return [sql(`update ${s}.users set locked_until = null where user_id = $1`, d.userId)];
      case 'UserDeleted':
        return [sql(`update ${s}.users set deleted = true where user_id = $1`, d.userId)];
      default:
        return [];
    }
  },
};

export interface UserRow {
  user_id: string;
  email: string;
  roles: string[];
  created_at: Date;
  locked_until: Date | null;
  [key: string]: unknown;
}

export async function findUserByEmail(q: Queryable, email: string): Promise<UserRow | undefined> {
  const [row] = await q.query<UserRow>(`select * from ${liveSchema}.users where email = $1 and not deleted`, [email]);
  return row;
}

export async function findUserById(q: Queryable, userId: string): Promise<UserRow | undefined> {
  const [row] = await q.query<UserRow>(`select * from ${liveSchema}.users where user_id = $1 and not deleted`, [userId]);
  return row;
}
