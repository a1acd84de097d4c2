// A fresh database per test file, dropped afterwards (STYLE.md: tests leave nothing behind).
// Order (DESIGN.md §4): TEST_DATABASE_URL or DATABASE_URL, else the local PostgreSQL on 127.0.0.1:5432 when it answers,
// else testcontainers when a Docker engine answers, else PGlite. TEST_DB=pglite forces the embedded database.
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

export const localPostgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

/** What to do when a test needs PostgreSQL and none answers: said in the failure, so nobody has to guess. */
export const startPostgresHint =
  'start the local PostgreSQL (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), ' +
  'or set TEST_DATABASE_URL, or simply run `npm test`, which does both';

let resolvedAdminUrl: Promise<string | undefined> | undefined;

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** The server to create test databases on, or undefined for PGlite. */
export function adminUrl(): Promise<string | undefined> {
  resolvedAdminUrl ??= (async () => {
    if (process.env.TEST_DB === 'pglite') return undefined;
    const configured = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
    if (configured) return configured;
    if (await answers(localPostgresUrl)) return localPostgresUrl;
    try {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:16-alpine').start();
      return container.getConnectionUri();
    } catch {
      return undefined; // no container runtime: fall back to PGlite
    }
  })();
  return resolvedAdminUrl;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabaseOptions {
  poolSize?: number;
  /**
   * Whether the file may run on PGlite (only the embedded-database suite says so). Every other test drives races or
   * several connections, which PGlite's single connection would serialize so that they could never fail: without
   * PostgreSQL it refuses to run and says what to start.
   */
  allowPglite?: boolean;
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const admin = await adminUrl();
  if (!admin) {
    if (!options.allowPglite) throw new Error(`This test needs PostgreSQL (races cannot fail on PGlite's one connection): ${startPostgresHint}.`);
    const db = await openPglite(undefined);
    return { db, kind: 'pglite', url: undefined, reopen: () => { throw new Error(`PGlite has one connection: ${startPostgresHint}`); }, drop: () => db.close() };
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
