// A fresh database per test file, dropped afterwards (STYLE.md: tests leave nothing behind).
// Order (DESIGN.md §4): TEST_DATABASE_URL or DATABASE_URL, else testcontainers when a Docker engine answers, else PGlite.
// TEST_DB=pglite forces the embedded database (the event-store suite runs once on each).
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openPglite, openPostgres, type Db } from '../../src/db/index.js';

export interface TestDatabase {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Connection URL of the fresh database (PostgreSQL only): for child processes such as a server under test. */
  url: string | undefined;
  /** Open another pool on the same database (PostgreSQL only). */
  reopen(): Db;
  drop(): Promise<void>;
}

let containerUrl: Promise<string | undefined> | undefined;

async function adminUrl(): Promise<string | undefined> {
  if (process.env.TEST_DB === 'pglite') return undefined;
  const configured = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (configured) return configured;
  containerUrl ??= (async () => {
    try {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:16-alpine').start();
      return container.getConnectionUri();
    } catch {
      return undefined; // no container runtime: fall back to PGlite
    }
  })();
  return containerUrl;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const admin = await adminUrl();
  if (!admin) {
    const db = await openPglite(undefined);
    return { db, kind: 'pglite', url: undefined, reopen: () => { throw new Error('PGlite has one connection'); }, drop: () => db.close() };
  }
  const name = `tessera_t_${randomBytes(6).toString('hex')}`;
  const adminSql = postgres(admin, { max: 1, onnotice: () => {} });
  await adminSql.unsafe(`create database ${name}`);
  await adminSql.end();
  const url = withDatabase(admin, name);
  const pools: Db[] = [];
  const open = (): Db => {
    const db = openPostgres(url, { max: options.poolSize ?? 10 });
    pools.push(db);
    return db;
  };
  const db = open();
  return {
    db,
    kind: 'postgres',
    url,
    reopen: open,
    async drop() {
      await Promise.all(pools.map((p) => p.close().catch(() => {})));
      const sql = postgres(admin, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}
