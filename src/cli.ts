// tessera serve | migrate | projections rebuild | audit verify | users create | users grant-role
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp, type App } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase, openPostgres } from './db/index.js';
import { ensureRole } from './db/roles.js';
import { migrate } from './eventstore/index.js';
import { createCheckpoint, exportAuditLog, startCheckpointer, verifyAuditLog } from './application/auditLog.js';
import { AuditSigningKeyError, loadAuditSigner, parsePublicKey, verifySignature } from './crypto/auditSigning.js';
import { earlierExport, verifyExport } from './eventstore/exportFile.js';
import fs from 'node:fs';
import { startServer } from './graphql/server.js';
import { defaultWebRoot } from './http/staticFiles.js';
import { runUserCommand } from './cli/users.js';
import { listDeadLetters, startNotificationWorker } from './notifications/worker.js';
import { analyticsCsv, analyticsSeries, grantAnalyticsRole, rebuildAnalytics, startAnalyticsProjector, type AnalyticsBucket } from './application/analytics.js';

const usage = `usage:
  tessera serve                         start the GraphQL server
  tessera migrate                       apply pending migrations
  tessera projections rebuild           replay the log into fresh projection tables and swap them in
  tessera audit verify [--known-size N --known-root HEX] [--earlier EXPORT]
                                        check every stream chain and every signed checkpoint (exit 0 intact, 1 broken)
  tessera audit verify --file FILE --public-key KEYFILE [--earlier EXPORT]
                                        verify an export offline with nothing but the file and the key
  tessera audit export --out FILE [--user ID] [--from ISO] [--to ISO]
                                        JSON lines: events with every hashed field, checkpoints, inclusion proofs
  tessera audit checkpoint              sign a checkpoint of the log now
  tessera audit public-key              the public key that verifies the checkpoints (PEM)
  tessera db ensure-role --role NAME [--password P]
                                        create a login role if it does not exist (MIGRATION_DATABASE_URL or DATABASE_URL)
  tessera analytics export --from ISO --to ISO [--bucket hour|day|week] [--time-zone Z] [--format csv] [--out FILE]
                                        the analysts' series as CSV (one line per bucket)
  tessera analytics grant-role NAME     a role that may read the analytics.* views and nothing else (idempotent;
                                        MIGRATION_DATABASE_URL or DATABASE_URL)
  tessera analytics rebuild             replay the log into fresh analysis tables, recreate the views and their grants
  tessera notifications dead-letters    security notifications never delivered, as JSON lines
  tessera users create --email E [--password P] [--admin]
  tessera users grant-role --email E --role R
  tessera users revoke-role --email E --role R [--reason R]
  tessera users unlock --email E        end every lock of the account (also the hard limit's)
  tessera users list [--role R] [--without-factor] [--first N] [--after CURSOR]
                                        users with their MFA status, as JSON lines
  tessera users reset-mfa --email E --reason R
                                        remove every factor and device trust, end every session (a passkey-only account keeps its passkeys)
  tessera users require-mfa --email E --deadline ISO [--reason R]
  tessera users lift-mfa --email E [--reason R]
  tessera users sign-out --email E [--reason R]
  tessera users erase (--email E | --user ID) --reason R   delete the account and destroy its personal data key (R is kept in clear: no personal data)
  tessera users suspended-factors --email E
                                        the factors "this wasn't me" suspended
  tessera users restore-factor --email E --factor totp|webauthn|recovery_codes [--id AUTHENTICATOR_ID]
                                        assisted recovery: restore a suspended factor and end the account's lock`;

class UsageError extends Error {}

async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp({ config: loadConfig() });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/**
 * The reference web app is built on demand outside production: once after install (postinstall), and here again when
 * web/dist is missing or older than its sources (a hash check, milliseconds when fresh). Production serves the
 * web/dist it was shipped with. The build script sits outside src/ (the installer runs it too), hence the dynamic import.
 */
async function prepareWebApp(app: App): Promise<void> {
  if (!app.config.serveWeb) return;
  if (app.config.isProduction) {
    if (!existsSync(path.join(defaultWebRoot, 'index.html'))) app.logger.warn({ webRoot: defaultWebRoot }, 'web app not built: / serves nothing (SERVE_WEB=false silences this)');
    return;
  }
  try {
    const script = new URL('../scripts/build-web.mjs', import.meta.url).href;
    const { ensureWebBuild } = (await import(script)) as { ensureWebBuild(options: { log(message: string): void }): Promise<string> };
    const outcome = await ensureWebBuild({ log: (message) => app.logger.info(message) });
    if (outcome === 'unavailable') app.logger.warn('web app not built (Vite is not installed): / serves nothing');
  } catch (error) {
    app.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'web app build failed: / serves the previous build, if any');
  }
}

async function serve(): Promise<void> {
  const app = await createApp({ config: loadConfig() });
  await prepareWebApp(app);
  const running = await startServer(app);
  // Security notifications: logged, or sent through SMTP_URL; at least once (see notifications/worker.ts).
  const notifications = startNotificationWorker(app);
  // Signed checkpoints every AUDIT_CHECKPOINT_EVERY events or AUDIT_CHECKPOINT_SECONDS while events arrive.
  const checkpointer = startCheckpointer(app);
  // The analysis tables, asynchronously from the log under one leader (application/analytics.ts).
  const analytics = startAnalyticsProjector(app);
  app.logger.info({ url: `${running.url}/`, graphql: `${running.url}/graphql`, web: app.config.serveWeb, database: app.db.kind }, 'tessera listening');
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    // Stop accepting, finish in-flight requests, then close the database so the embedded one flushes to disk.
    await running.close();
    await notifications.stop();
    await checkpointer.stop();
    await analytics.stop();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (command === 'serve' || command === undefined) return serve();
  if (command === 'migrate') {
    const config = loadConfig();
    const db = await openDatabase({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, dataDir: config.dataDir });
    const applied = await migrate(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply');
    await db.close();
    return;
  }
  if (command === 'projections' && sub === 'rebuild') {
    return withApp(async (app) => {
      const started = Date.now();
      const result = await app.projections.rebuild({ onProgress: (n) => n % 20000 === 0 && console.log(`${n} events`) });
      console.log(`rebuilt ${app.projections.projectors.length} projections from ${result.events} events in ${Date.now() - started} ms`);
      const analytics = await rebuildAnalytics(app);
      console.log(`rebuilt the analysis tables from ${analytics.events} events; views granted to: ${analytics.grants.join(', ') || 'nobody'}`);
    });
  }
  if (command === 'audit' && sub === 'verify') {
    const { values } = parseArgs({ args: rest, options: { file: { type: 'string' }, 'public-key': { type: 'string' }, 'known-size': { type: 'string' }, 'known-root': { type: 'string' }, earlier: { type: 'string' } } });
    // An export the auditor kept from earlier: the log must extend its last checkpoint, and an edit is named by the
    // first leaf that differs from it.
    const earlier = values.earlier !== undefined ? earlierExport(fs.readFileSync(values.earlier, 'utf8')) : undefined;
    if (values.file !== undefined) {
      if (values['public-key'] === undefined) throw new UsageError('audit verify --file needs --public-key KEYFILE');
      const publicKey = parsePublicKey(fs.readFileSync(values['public-key'], 'utf8'));
      const result = await verifyExport(fs.readFileSync(values.file, 'utf8'), (statement, signature) => verifySignature(publicKey, statement, signature), { knownTreeHead: earlier?.knownTreeHead, earlierLeaves: earlier?.leaves });
      console.log(JSON.stringify(result.ok ? { ok: true, lines: result.lines, eventsChecked: result.eventsChecked, checkpointsChecked: result.checkpointsChecked } : { ok: false, firstBreak: result.firstBreak, breaks: result.breaks.slice(0, 20) }));
      if (!result.ok) process.exitCode = 1;
      return;
    }
    const known = values['known-size'] !== undefined && values['known-root'] !== undefined ? { treeSize: Number(values['known-size']), root: values['known-root'] } : earlier?.knownTreeHead;
    return withApp(async (app) => {
      const result = await verifyAuditLog(app, known, earlier?.leaves);
      console.log(JSON.stringify({ ...result, breaks: result.breaks.slice(0, 20) }));
      if (!result.ok) process.exitCode = 1;
    });
  }
  if (command === 'audit' && sub === 'export') {
    const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, user: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } });
    const date = (name: string, value: string | undefined): Date | undefined => {
      if (value === undefined) return undefined;
      const parsed = new Date(value);
      if (Number.isNaN(parsed.getTime())) throw new UsageError(`--${name} must be an ISO 8601 date-time`);
      return parsed;
    };
    const options = { userId: values.user, from: date('from', values.from), to: date('to', values.to) };
    return withApp(async (app) => {
      const out = values.out === undefined ? null : fs.openSync(values.out, 'w', 0o600);
      const write = (line: string): void => {
        if (out === null) process.stdout.write(line);
        else fs.writeSync(out, line);
      };
      try {
        const count = await exportAuditLog(app, options, write);
        if (out !== null) console.log(`exported ${count} events to ${values.out}`);
      } finally {
        if (out !== null) fs.closeSync(out);
      }
    });
  }
  if (command === 'audit' && sub === 'checkpoint') {
    return withApp(async (app) => {
      console.log(JSON.stringify(await createCheckpoint(app)));
    });
  }
  if (command === 'audit' && sub === 'public-key') {
    const config = loadConfig();
    process.stdout.write(loadAuditSigner({ env: process.env, dataDir: config.dataDir }).publicKeyPem);
    return;
  }
  if (command === 'db' && sub === 'ensure-role') {
    const { values } = parseArgs({ args: rest, options: { role: { type: 'string' }, password: { type: 'string' } } });
    if (values.role === undefined) throw new UsageError('db ensure-role needs --role NAME');
    const config = loadConfig();
    const url = config.migrationDatabaseUrl ?? config.databaseUrl;
    if (url === undefined) throw new UsageError('db ensure-role needs MIGRATION_DATABASE_URL or DATABASE_URL (PostgreSQL)');
    const admin = openPostgres(url, { max: 1 });
    try {
      console.log(`${values.role}: ${await ensureRole(admin, values.role, { password: values.password })}`);
    } finally {
      await admin.close();
    }
    return;
  }
  if (command === 'analytics' && sub === 'export') {
    const { values } = parseArgs({ args: rest, options: { from: { type: 'string' }, to: { type: 'string' }, bucket: { type: 'string' }, 'time-zone': { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } } });
    const date = (name: string, value: string | undefined): Date => {
      const parsed = value === undefined ? new Date(Number.NaN) : new Date(value);
      if (Number.isNaN(parsed.getTime())) throw new UsageError(`analytics export needs --${name} as an ISO 8601 date-time`);
      return parsed;
    };
    if ((values.format ?? 'csv') !== 'csv') throw new UsageError('analytics export: --format must be csv');
    const bucket = (values.bucket ?? 'day').toLowerCase();
    if (!['hour', 'day', 'week'].includes(bucket)) throw new UsageError('analytics export: --bucket must be hour, day or week');
    const query = { from: date('from', values.from), to: date('to', values.to), bucket: bucket as AnalyticsBucket, timeZone: values['time-zone'] ?? 'UTC' };
    return withApp(async (app) => {
      let csv: string;
      try {
        csv = analyticsCsv(await analyticsSeries(app.db, query));
      } catch (error) {
        if (error instanceof Error && 'code' in error && (error as { code: string }).code === 'VALIDATION_FAILED') throw new UsageError(`analytics export: ${error.message}`);
        throw error;
      }
      if (values.out === undefined) process.stdout.write(csv);
      else fs.writeFileSync(values.out, csv, { mode: 0o600 });
    });
  }
  if (command === 'analytics' && sub === 'grant-role') {
    const role = rest[0];
    if (role === undefined || role.startsWith('-')) throw new UsageError('analytics grant-role needs NAME');
    const config = loadConfig();
    const url = config.migrationDatabaseUrl ?? config.databaseUrl;
    if (url === undefined) throw new UsageError('analytics grant-role needs MIGRATION_DATABASE_URL or DATABASE_URL (PostgreSQL)');
    // The role through the administrator's connection; the grants through the app's, which owns the views.
    return withApp(async (app) => {
      const admin = openPostgres(url, { max: 1 });
      try {
        console.log(`${role}: ${await grantAnalyticsRole(app, admin, role)}, may read the analytics views`);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('role name must match')) throw new UsageError(error.message);
        throw error;
      } finally {
        await admin.close();
      }
    });
  }
  if (command === 'analytics' && sub === 'rebuild') {
    return withApp(async (app) => {
      const result = await rebuildAnalytics(app);
      console.log(`rebuilt the analysis tables from ${result.events} events; views granted to: ${result.grants.join(', ') || 'nobody'}`);
    });
  }
  if (command === 'notifications' && sub === 'dead-letters') {
    return withApp(async (app) => {
      for (const row of await listDeadLetters(app.db)) process.stdout.write(`${JSON.stringify(row)}\n`);
    });
  }
  if (command === 'users' && sub) {
    const { values } = parseArgs({
      args: rest,
      options: {
        email: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' }, admin: { type: 'boolean' }, reason: { type: 'string' }, user: { type: 'string' },
        deadline: { type: 'string' }, first: { type: 'string' }, after: { type: 'string' }, 'without-factor': { type: 'boolean' }, factor: { type: 'string' }, id: { type: 'string' },
      },
    });
    return withApp((app) => runUserCommand(app, sub, values));
  }
  console.error(usage);
  process.exitCode = 2;
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  // A bad setting is the operator's to fix: every problem, named, and no stack trace to read past.
  if (!(error instanceof ConfigError) && !(error instanceof UsageError) && !(error instanceof AuditSigningKeyError)) throw error;
  console.error(error.message);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
