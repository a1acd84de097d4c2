// Ordered SQL files applied once each at start-up, recorded in schema_migrations. Migrations are additive.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../db/index.js';

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export function listMigrations(dir = migrationsDir): Array<{ name: string; sql: string }> {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => ({ name, sql: fs.readFileSync(path.join(dir, name), 'utf8') }));
}

export async function migrate(db: Db): Promise<string[]> {
  // Under the same lock as the files: two concurrent `create table if not exists` on a fresh database can both pass the
  // existence check, and the loser fails on pg_type's unique index instead of finding the table.
  await db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(7316001)`);
    await tx.query(`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`);
  });
  const applied: string[] = [];
  for (const migration of listMigrations()) {
    // One transaction per file, and a lock so two instances starting together do not both apply it.
    const didApply = await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(7316001)`);
      const done = await tx.query(`select 1 from schema_migrations where name = $1`, [migration.name]);
      if (done.length > 0) return false;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query(`insert into schema_migrations (name) values ($1)`, [migration.name]);
      return true;
    });
    if (didApply) applied.push(migration.name);
  }
  return applied;
}

export async function pendingMigrations(db: Db): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `select name from schema_migrations`,
  ).catch(() => [] as Array<{ name: string }>);
  const done = new Set(rows.map((r) => r.name));
  return listMigrations().map((m) => m.name).filter((n) => !done.has(n));
}

// Statements end with a semicolon at the end of a line, outside dollar-quoted bodies ($$ ... $$ of a trigger function).
export function splitStatements(sqlText: string): string[] {
  const statements: string[] = [];
  let current = '';
  let inBody = false;
  for (const line of sqlText.split('\n')) {
    const code = line.replace(/^\s*--.*$/, '');
    current += `${code}\n`;
    if ((code.match(/\$\$/g)?.length ?? 0) % 2 === 1) inBody = !inBody;
    if (!inBody && /;\s*$/.test(code)) {
      statements.push(current.trim().replace(/;$/, ''));
      current = '';
    }
  }
  statements.push(current.trim());
  return statements.filter(Boolean);
}
