// tessera serve | migrate | projections rebuild | audit verify | users create | users grant-role
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp, type App } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/index.js';
import { migrate, verifyChain } from './eventstore/index.js';
import { startServer } from './graphql/server.js';
import { defaultWebRoot } from './http/staticFiles.js';
import { runUserCommand } from './cli/users.js';
import { findAuditEvents } from './projections/audit.js';
import { listDeadLetters, startNotificationWorker } from './notifications/worker.js';

const usage = `usage:
  tessera serve                         start the GraphQL server
  tessera migrate                       apply pending migrations
  tessera projections rebuild           replay the log into fresh projection tables and swap them in
  tessera audit verify                  check the hash chain of the whole log
  tessera audit export [--user ID]      the audit history as JSON lines on stdout
  tessera notifications dead-letters    security notifications never delivered, as JSON lines
  tessera users create --email E [--password P] [--admin]
  tessera users grant-role --email E --role R
  tessera users revoke-role --email E --role R
  tessera users unlock --email E        end every lock of the account (also the hard limit's)`;

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
  app.logger.info({ url: `${running.url}/`, graphql: `${running.url}/graphql`, web: app.config.serveWeb, database: app.db.kind }, 'tessera listening');
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    // Stop accepting, finish in-flight requests, then close the database so the embedded one flushes to disk.
    await running.close();
    await notifications.stop();
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
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
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
    });
  }
  if (command === 'audit' && sub === 'verify') {
    return withApp(async (app) => {
      const result = await verifyChain(app.db);
      console.log(JSON.stringify(result));
      if (!result.ok) process.exitCode = 1;
    });
  }
  if (command === 'audit' && sub === 'export') {
    const { values } = parseArgs({ args: rest, options: { user: { type: 'string' } } });
    return withApp(async (app) => {
      // Paged by position so an export of any size runs in constant memory.
      for (let after = 0; ;) {
        const rows = await findAuditEvents(app.db, { userId: values.user }, after, 1000);
        for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
        if (rows.length < 1000) break;
        after = rows[rows.length - 1]!.position;
      }
    });
  }
  if (command === 'notifications' && sub === 'dead-letters') {
    return withApp(async (app) => {
      for (const row of await listDeadLetters(app.db)) process.stdout.write(`${JSON.stringify(row)}\n`);
    });
  }
  if (command === 'users' && sub) {
    const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' }, admin: { type: 'boolean' } } });
    return withApp((app) => runUserCommand(app, sub, values));
  }
  console.error(usage);
  process.exitCode = 2;
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  // A bad setting is the operator's to fix: every problem, named, and no stack trace to read past.
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
