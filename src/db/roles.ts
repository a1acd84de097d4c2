// Database roles, kept outside the migrations (issue 14): role names are cluster-wide, so a migration creating one would
// collide between the databases of one server (test databases, staging beside production). Both functions are idempotent.
import type { Db } from './index.js';
import { sqlState } from './index.js';

const roleNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** The tables the app may only read and append to; the append-only trigger guards them as well (migration 012). */
export const appendOnlyTables = ['events', 'audit_leaves', 'audit_checkpoints'] as const;

function checkedRoleName(name: string): string {
  if (!roleNamePattern.test(name)) throw new Error(`role name must match ${roleNamePattern}, got "${name}"`);
  return name;
}

/** Creates a login role if it does not exist yet (run by an administrator: CREATEROLE or superuser). */
export async function ensureRole(admin: Db, name: string, options: { password?: string } = {}): Promise<'created' | 'exists'> {
  const role = checkedRoleName(name);
  const [existing] = await admin.query(`select 1 from pg_roles where rolname = $1`, [role]);
  if (existing) return 'exists';
  try {
    // A role name cannot be a bind parameter; it is checked against the pattern above. So is the password quoted.
    await admin.query(`create role ${role} login${options.password ? ` password '${options.password.replaceAll("'", "''")}'` : ''}`);
    return 'created';
  } catch (error) {
    if (sqlState(error) === '42710') return 'exists'; // created meanwhile by another run
    throw error;
  }
}

/**
 * What the app needs and no more, granted by the owner after each migration: read and append on the log, read and write
 * on the delivery and projection-bookkeeping tables, its sequences, and CREATE on the database for the projection schemas
 * it builds and swaps itself. Not being the owner, it cannot disable or drop the append-only triggers.
 */
export async function grantAppPrivileges(owner: Db, appRole: string): Promise<void> {
  const role = checkedRoleName(appRole);
  const tables = await owner.query<{ tablename: string }>(`select tablename from pg_tables where schemaname = 'public'`);
  const appendOnly = new Set<string>(appendOnlyTables);
  await owner.query(`grant usage on schema public to ${role}`);
  for (const { tablename } of tables) {
    const privileges = appendOnly.has(tablename) || tablename === 'schema_migrations' || tablename === 'code_migrations' ? 'select, insert' : 'select, insert, update, delete';
    await owner.query(`grant ${privileges} on table public.${tablename} to ${role}`);
  }
  await owner.query(`grant usage, select, update on all sequences in schema public to ${role}`);
  const [{ db }] = (await owner.query<{ db: string }>(`select current_database() as db`)) as [{ db: string }];
  await owner.query(`grant create on database "${db.replaceAll('"', '""')}" to ${role}`);
}
