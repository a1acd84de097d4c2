// The composition root: one database, one event store with its inline projections and reactors, one clock, one
// logger, the budget behind the lockout gate. Use cases take the parts they need of it (application/deps.ts).
import type { Deps } from './application/deps.js';
import { createLockoutGate, createLockoutReactor } from './application/lockout.js';
import { ensureAnalytics, pseudonymsOf } from './application/analytics.js';
import { createRangeThrottle } from './application/attackDetection.js';
import type { Config } from './config.js';
import { openDatabase, openPostgres, type Db, type Queryable } from './db/index.js';
import { grantAppPrivileges } from './db/roles.js';
import { loadAuditSigner } from './crypto/auditSigning.js';
import { allEventTypes } from './domain/eventTypes.js';
import { streams } from './domain/shared/streams.js';
import { systemClock, type Clock } from './domain/shared/clock.js';
import { EventStore, migrate } from './eventstore/index.js';
import { createLogger, type Logger } from './logger.js';
import { allProjectors, Projections } from './projections/index.js';
import { createPasswordHasher } from './crypto/password.js';
import { Redis } from 'ioredis';
import type { AppendEffects, ReactionPlanner, RecordedEvent } from './eventstore/index.js';
import { failureEventTypes } from './projections/accountFailures.js';

import { createMemoryAttemptBudget, createRedisAttemptBudget, guardedAttemptBudget, throttledAttemptBudget, type AttemptBudget } from './security/attempts.js';
import { createMemoryUnknownAccountLedger, createRedisUnknownAccountLedger } from './security/unknownAccountLedger.js';
import { createDeviceTokens } from './crypto/deviceTokens.js';
import { createEmailCodeDelivery } from './notifications/codeDelivery.js';
import { createNotificationPlanner, createNotificationReactor, notificationTriggers } from './notifications/reactor.js';
import { createSecretBox, loadSecretKeys } from './crypto/secretBox.js';
import { createServiceMetrics, type ServiceMetrics } from './observability/metrics.js';
import { createPersonalDataHashes } from './crypto/personalData.js';
import { personalFields, personalMetadataFields } from './domain/personalData.js';
import { PersonalDataVault } from './application/personalDataVault.js';
import { nodeWebCryptoInstalled } from './crypto/webauthn/nodeWebCrypto.js';
import { convertPersonalData, replayErasures } from './application/personalDataConversion.js';

/** A reactor, and the event types it reacts to (any other event, it ignores). */
interface Reactor {
  types: ReadonlySet<string>;
  run(tx: Queryable, events: readonly RecordedEvent[]): Promise<void>;
  /** The same reactions decided without a read, when it can (see ReactionPlanner): sent with the append itself. */
  planner?: ReactionPlanner;
}

export interface App extends Deps {
  projections: Projections;
  /** What /metrics shows: fed by the event store and the attempt budget, nowhere else. */
  metrics: ServiceMetrics;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  config: Config;
  /** An already open database (tests); otherwise opened from the config. */
  db?: Db;
  clock?: Clock;
  logger?: Logger;
  /** The rate-limited budget (without the lockout gate, which the app always adds in front of it). */
  attempts?: AttemptBudget;
  /**
   * Run the inline reactors (lockout, security notifications) that append events of their own. Only the event-store
   * suite turns them off: it counts exactly the events it appends.
   */
  reactors?: boolean;
  /** Where the keys come from; defaults to the process environment. */
  env?: Record<string, string | undefined>;
}

export async function createApp(options: CreateAppOptions): Promise<App> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = options.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, dataDir: config.dataDir }));
  const applied = await migrateAs(db, config.migrationDatabaseUrl);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  const keys = loadSecretKeys({ env: options.env ?? process.env, dataDir: config.dataDir });
  const box = createSecretBox({ keys: keys.keys, currentKeyId: keys.currentKeyId });
  const personalData = new PersonalDataVault({
    box, hashes: createPersonalDataHashes(keys), registry: personalFields, metadataFields: personalMetadataFields,
  });
  // Before the projections: the conversion seals events written before sealing existed (and re-chains them), and the
  // erasures recorded in the log are applied again to keys a restored backup brought back.
  const converted = await asOwner(db, config.migrationDatabaseUrl, (owner) => convertPersonalData(owner, personalData));
  if (converted.events > 0) logger.info({ converted }, 'personal data sealed in existing events');
  const reErased = await replayErasures(db, personalData);
  if (reErased > 0) logger.warn({ keys: reErased }, 'erased people\'s keys destroyed again (restored from a backup?)');
  // Snapshots are sealed with the service's key and hold credential names: none may outlive an erasure (a restored
  // backup, a snapshot written by a read that raced the erasure).
  await db.query(
    `delete from snapshots where stream_id in (select $1 || subject_id from personal_data_keys where erased_at is not null)`,
    [streams.authenticators('')],
  );
  // Still correct without it, only slower: a new @simplewebauthn/server moved the setter nodeWebCrypto.ts installs by.
  if (!nodeWebCryptoInstalled) logger.warn('WebAuthn verifies through crypto.subtle: the node:crypto fast path could not be installed');
  const projections = new Projections(db, allProjectors(), personalData);
  const projectionState = await projections.ensureLive();
  if (projectionState !== 'ready') logger.info({ projections: projectionState }, 'projections prepared');
  const auditSigner = loadAuditSigner({ env: options.env ?? process.env, dataDir: config.dataDir });
  // Reactors run after the inline projections in the append's transaction and may append events of their own
  // (UserLocked, SecurityNotificationRequested): what they decide commits or rolls back with what caused it.
  const reactors: Reactor[] = [];
  const effects: AppendEffects = {
    statements(events) {
      const writes = projections.inlineStatements(events);
      // A deleted or erased account's snapshots go with it (they are sealed with the service's key, not the person's,
      // and hold the names of its WebAuthn credentials).
      const deleted = events.filter((e) => e.type === 'UserDeleted' || e.type === 'UserErased').map((e) => streams.authenticators(String(e.data.userId)));
      if (deleted.length > 0) writes.push({ text: `delete from snapshots where stream_id = any($1::text[])`, params: [deleted] });
      return writes;
    },
    async react(tx, events) {
      for (const react of reactors) await react.run(tx, events);
    },
    reactsTo: (events) => events.some((e) => reactors.some((r) => r.types.has(e.type))),
    // Planned ahead only when every reactor these events concern can plan its part.
    reactionsWithoutReads: {
      count(events) {
        let total = 0;
        for (const reactor of reactors) {
          if (!events.some((e) => reactor.types.has(e.type))) continue;
          const count = reactor.planner?.count(events) ?? null;
          if (count === null) return null;
          total += count;
        }
        return total;
      },
      plan(events) {
        const plans = reactors.filter((r) => events.some((e) => r.types.has(e.type))).map((r) => r.planner!.plan(events));
        return { appends: plans.flatMap((p) => p.appends), statements: plans.flatMap((p) => p.statements) };
      },
    },
  };
  const passwords = createPasswordHasher(config.argon2, { concurrency: config.passwordHashConcurrency });
  const metrics = createServiceMetrics({ db, passwords });
  // Snapshots are sealed with the service's secret box (bound to stream, kind, version and head hash).
  const store = new EventStore(db, new Set(allEventTypes), effects, personalData, metrics.store, box);
  const redis = !options.attempts && config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: true, maxRetriesPerRequest: 2 }) : null;
  const limits = {
    accountPoints: config.attempts.accountPoints, accountWindowSeconds: config.attempts.accountWindowSeconds,
    ipPoints: config.attempts.ipPoints, ipWindowSeconds: config.attempts.ipWindowSeconds,
    anonymousWritesPerIp: config.attempts.anonymousWritesPerIp,
  };
  const budget = options.attempts ?? (redis ? createRedisAttemptBudget(redis, { ...limits, keyPrefix: config.redisKeyPrefix }) : createMemoryAttemptBudget(limits));
  const app: App = {
    config,
    logger,
    db,
    store,
    projections,
    metrics,
    clock: options.clock ?? systemClock,
    passwords,
    attempts: budget,
    secrets: { box, keys },
    personalData,
    deviceTokens: createDeviceTokens(keys),
    auditSigner,
    codeDelivery: undefined as unknown as App['codeDelivery'],
    unknownAccounts: redis ? createRedisUnknownAccountLedger(redis, config.redisKeyPrefix) : createMemoryUnknownAccountLedger(),
    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect());
      await passwords.close();
      await db.close();
    },
  };
  app.attempts = guardedAttemptBudget(budget, createLockoutGate(app, app.unknownAccounts));
  app.codeDelivery = createEmailCodeDelivery(app);
  // Attack detection may throttle a spraying range for a while (DETECT_THROTTLE_SECONDS; off by default).
  if (config.analytics.detection.throttleSeconds > 0) app.attempts = throttledAttemptBudget(app.attempts, createRangeThrottle(app, pseudonymsOf(app)));
  // Counted last, so what /metrics shows includes the lockout gate's and the range throttle's refusals.
  app.attempts = metrics.meterAttempts(app.attempts);
  // The analysis tables and their SQL views (asynchronous: `tessera serve` runs their projector).
  const analyticsState = await ensureAnalytics(app);
  if (analyticsState !== 'ready') logger.info({ analytics: analyticsState }, 'analysis tables prepared');
  if (options.reactors !== false) {
    reactors.push(
      { types: new Set(failureEventTypes), run: createLockoutReactor(app) },
      { types: new Set(notificationTriggers), run: createNotificationReactor(app), planner: createNotificationPlanner(app) },
    );
  }
  return app;
}

/**
 * With MIGRATION_DATABASE_URL (the tables' owner), migrations run there and the app's own role is granted what it needs
 * (db/roles.ts), so the app cannot disable the append-only triggers. Without it, the app migrates as before.
 */
async function migrateAs(db: Db, migrationDatabaseUrl: string | undefined): Promise<string[]> {
  if (!migrationDatabaseUrl || db.kind !== 'postgres') return migrate(db);
  const owner = openPostgres(migrationDatabaseUrl, { max: 1 });
  try {
    const applied = await migrate(owner);
    const [me] = await db.query<{ role: string }>(`select current_user as role`);
    const [ownerRole] = await owner.query<{ role: string }>(`select current_user as role`);
    if (me && ownerRole && me.role !== ownerRole.role) await grantAppPrivileges(owner, me.role);
    return applied;
  } finally {
    await owner.close();
  }
}

/** Runs a step as the tables' owner (MIGRATION_DATABASE_URL) when one is configured, else on the app's connection. */
async function asOwner<T>(db: Db, migrationDatabaseUrl: string | undefined, fn: (owner: Db) => Promise<T>): Promise<T> {
  if (!migrationDatabaseUrl || db.kind !== 'postgres') return fn(db);
  const owner = openPostgres(migrationDatabaseUrl, { max: 1 });
  try {
    return await fn(owner);
  } finally {
    await owner.close();
  }
}
