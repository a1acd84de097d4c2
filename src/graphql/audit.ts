// Auditors and analysts: their own fields, behind their roles (DESIGN.md §5).
import { Kind, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { z } from 'zod';
import type { AuditBreak, LogVerification } from '../eventstore/verifyLog.js';
import type { Checkpoint } from '../eventstore/checkpoints.js';
import { consistencyProof, inclusionProof, verifyAuditLog, type ConsistencyProof, type InclusionProof } from '../application/auditLog.js';
import { findAuditPage, type AuditRow } from '../projections/audit.js';
import { allEventTypes } from '../domain/eventTypes.js';
import { sessionProvenance } from '../application/provenance.js';
import { activeSessionCount, authenticationFailures, loginsByMethod, mfaAdoption } from '../projections/analytics.js';
import { analyticsLag, analyticsSeries, validateAnalyticsQuery, type AnalyticsBucket, type AnalyticsLag, type AnalyticsPoint } from '../application/analytics.js';
import { DomainError } from '../domain/shared/errors.js';
import { builder, privileged } from './builder.js';
import { openAuditRow, type OpenedAuditRow } from '../application/auditLog.js';
import type { GraphQLContext } from './context.js';
import { parseInput } from '../application/validation.js';

/** A row's personal data opened once per request (the vault caches the keys): clear, or null once the person is erased. */
const openedRows = new WeakMap<AuditRow, Promise<OpenedAuditRow>>();
function opened(row: AuditRow, ctx: GraphQLContext): Promise<OpenedAuditRow> {
  let o = openedRows.get(row);
  if (!o) openedRows.set(row, (o = openAuditRow(ctx.deps, row)));
  return o;
}

export const AuditEventRef = builder.objectRef<AuditRow>('AuditEvent').implement({
  fields: (t) => ({
    position: t.string({ description: 'Global position in the log (a bigint, as a string).', resolve: (r) => String(r.position) }),
    streamId: t.string({ resolve: (r) => r.stream_id }),
    version: t.int({ resolve: (r) => r.version }),
    type: t.string({ resolve: (r) => r.type }),
    userId: t.string({ nullable: true, resolve: (r) => r.user_id }),
    actor: t.string({ nullable: true, resolve: (r) => r.actor }),
    correlationId: t.string({ nullable: true, resolve: (r) => r.correlation_id }),
    ip: t.string({ nullable: true, description: 'Null for an anonymous event, and once the person is erased.', resolve: async (r, _a, ctx) => (await opened(r, ctx)).ip }),
    userAgent: t.string({ nullable: true, resolve: async (r, _a, ctx) => (await opened(r, ctx)).userAgent }),
    erased: t.boolean({
      description: 'The person this event concerns was erased: their personal data (email, addresses, user agents, names) reads as null.',
      resolve: async (r, _a, ctx) => (await opened(r, ctx)).erased,
    }),
    summary: t.field({ type: 'JSON', description: 'The event data without secret-bearing fields (personal fields null once the person is erased).', resolve: async (r, _a, ctx) => (await opened(r, ctx)).summary }),
    hash: t.string({ resolve: (r) => r.hash }),
    recordedAt: t.field({ type: 'DateTime', resolve: (r) => r.recorded_at }),
  }),
});

interface AuditPage { events: AuditRow[]; nextCursor: string | null; hasNextPage: boolean; hasPreviousPage: boolean }

const AuditEdgeRef = builder.objectRef<AuditRow>('AuditEventEdge').implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (r) => String(r.position) }),
    node: t.field({ type: AuditEventRef, resolve: (r) => r }),
  }),
});

const PageInfoRef = builder.objectRef<AuditPage>('AuditPageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.string({ nullable: true, resolve: (p) => (p.events[0] ? String(p.events[0].position) : null) }),
    endCursor: t.string({ nullable: true, resolve: (p) => (p.events.at(-1) ? String(p.events.at(-1)!.position) : null) }),
  }),
});

const AuditPageRef = builder.objectRef<AuditPage>('AuditPage').implement({
  description: 'A page of the history in position order: Relay-style (edges, pageInfo), and the older events/nextCursor pair.',
  fields: (t) => ({
    events: t.field({ type: [AuditEventRef], resolve: (p) => p.events }),
    nextCursor: t.string({ nullable: true, description: 'Pass as `after` for the next page; null at the end.', resolve: (p) => p.nextCursor }),
    edges: t.field({ type: [AuditEdgeRef], resolve: (p) => p.events }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (p) => p }),
  }),
});

const AuditBreakKindRef = builder.enumType('AuditBreakKind', {
  values: ['EDITED', 'DELETED', 'REORDERED', 'INSERTED', 'TRUNCATED', 'BAD_SIGNATURE', 'MISSING_STREAM', 'FORKED'] as const,
});

const AuditBreakRef = builder.objectRef<AuditBreak>('AuditBreak').implement({
  description: 'One thing that broke: where the chain shows it (a position), otherwise the checkpoint range whose root or signature no longer holds.',
  fields: (t) => ({
    kind: t.field({ type: AuditBreakKindRef, resolve: (b) => b.kind }),
    position: t.string({ nullable: true, resolve: (b) => (b.position === undefined ? null : String(b.position)) }),
    streamId: t.string({ nullable: true, resolve: (b) => b.streamId ?? null }),
    version: t.int({ nullable: true, resolve: (b) => b.version ?? null }),
    fromTreeSize: t.string({ nullable: true, description: 'Leaves after this tree size…', resolve: (b) => (b.fromTreeSize === undefined ? null : String(b.fromTreeSize)) }),
    toTreeSize: t.string({ nullable: true, description: '…up to this one.', resolve: (b) => (b.toTreeSize === undefined ? null : String(b.toTreeSize)) }),
    checkpointSeq: t.int({ nullable: true, resolve: (b) => b.checkpointSeq ?? null }),
    detail: t.exposeString('detail'),
  }),
});

const ChainVerificationRef = builder.objectRef<LogVerification>('ChainVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    eventsChecked: t.exposeInt('eventsChecked'),
    checkpointsChecked: t.exposeInt('checkpointsChecked'),
    treeSize: t.string({ description: 'Leaves the latest signed checkpoint covers.', resolve: (v) => String(v.treeSize) }),
    firstBrokenPosition: t.string({ nullable: true, resolve: (v) => (v.breaks[0]?.position === undefined ? null : String(v.breaks[0].position)) }),
    brokenStreamId: t.string({ nullable: true, resolve: (v) => v.breaks[0]?.streamId ?? null }),
    reason: t.field({ type: AuditBreakKindRef, nullable: true, description: 'The kind of the first break.', resolve: (v) => v.breaks[0]?.kind ?? null }),
    breaks: t.field({ type: [AuditBreakRef], description: 'Every break found (at most 100), the most precise first.', resolve: (v) => v.breaks.slice(0, 100) }),
  }),
});

const AuditCheckpointRef = builder.objectRef<Checkpoint>('AuditCheckpoint').implement({
  description: 'A signed tree head: Ed25519 over the statement `tessera-audit-checkpoint/v1` with seq, tree size, root, time and the previous statement\'s SHA-256.',
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    treeSize: t.string({ resolve: (c) => String(c.treeSize) }),
    root: t.exposeString('root'),
    at: t.field({ type: 'DateTime', resolve: (c) => c.at }),
    previous: t.exposeString('previous'),
    keyId: t.exposeString('keyId'),
    signature: t.exposeString('signature', { description: 'Base64 Ed25519 signature.' }),
  }),
});

const InclusionProofRef = builder.objectRef<InclusionProof>('AuditInclusionProof').implement({
  fields: (t) => ({
    position: t.string({ resolve: (p) => String(p.position) }),
    leafIndex: t.string({ resolve: (p) => String(p.leafIndex) }),
    eventHash: t.exposeString('eventHash', { description: 'The leaf entry: leaf hash = SHA-256(0x00 ‖ eventHash bytes).' }),
    treeSize: t.string({ resolve: (p) => String(p.treeSize) }),
    root: t.exposeString('root'),
    hashes: t.exposeStringList('hashes', { description: 'RFC 6962 audit path, hex.' }),
    checkpoint: t.field({ type: AuditCheckpointRef, resolve: (p) => p.checkpoint }),
  }),
});

const ConsistencyProofRef = builder.objectRef<ConsistencyProof>('AuditConsistencyProof').implement({
  fields: (t) => ({
    fromSize: t.string({ resolve: (p) => String(p.fromSize) }),
    toSize: t.string({ resolve: (p) => String(p.toSize) }),
    fromRoot: t.exposeString('fromRoot'),
    toRoot: t.exposeString('toRoot'),
    hashes: t.exposeStringList('hashes', { description: 'RFC 6962 consistency proof, hex.' }),
    fromCheckpoint: t.field({ type: AuditCheckpointRef, nullable: true, resolve: (p) => p.fromCheckpoint }),
    toCheckpoint: t.field({ type: AuditCheckpointRef, nullable: true, resolve: (p) => p.toCheckpoint }),
  }),
});

const AuditOutcomeRef = builder.enumType('AuditOutcome', {
  description: 'FAILURE: events recording a refusal or failure (…Rejected, …Suspected, …Locked, …DeadLettered, …Failed); SUCCESS: every other.',
  values: ['SUCCESS', 'FAILURE'] as const,
});

const AuditFilterInput = builder.inputType('AuditFilter', {
  fields: (t) => ({
    userId: t.string({ description: 'The account the event concerns.' }),
    actor: t.string({ description: 'Who caused it: a user id, system or anonymous.' }),
    types: t.stringList(),
    address: t.string({ description: 'The client address it was recorded from.' }),
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
    correlationId: t.string(),
    outcome: t.field({ type: AuditOutcomeRef }),
  }),
});

const cursorSchema = z.string().regex(/^\d{1,18}$/, 'must be a cursor (a position)');
const auditArgsSchema = z.object({
  filter: z.object({
    userId: z.string().max(128).nullish(),
    actor: z.string().max(128).nullish(),
    types: z.array(z.string().regex(/^[A-Za-z]{1,64}$/)).max(50).nullish(),
    address: z.string().max(64).nullish(),
    from: z.date().nullish(),
    to: z.date().nullish(),
    correlationId: z.string().max(128).nullish(),
    outcome: z.enum(['SUCCESS', 'FAILURE']).nullish(),
  }).nullish(),
  after: cursorSchema.nullish(),
  first: z.number().int().min(1).max(1000).nullish(),
  before: cursorSchema.nullish(),
  last: z.number().int().min(1).max(1000).nullish(),
});

builder.queryField('auditEvents', (t) =>
  t.field({
    type: AuditPageRef,
    errors: {},
    authScopes: privileged('auditor'),
    description:
      'The MFA event history, filtered and paged by position (auditor role): `first`/`after` forwards, `last`/`before` backwards ' +
      '(the latest events: `last` alone). Page through it to export.',
    args: {
      filter: t.arg({ type: AuditFilterInput }), after: t.arg.string(), first: t.arg.int(), before: t.arg.string(), last: t.arg.int(),
    },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(auditArgsSchema, args);
      if ((input.last != null || input.before != null) && (input.first != null || input.after != null)) {
        throw new DomainError('VALIDATION_FAILED', 'last: page forwards (first, after) or backwards (last, before), not both', { field: 'last' });
      }
      const backwards = input.last != null || input.before != null;
      const limit = (backwards ? input.last : input.first) ?? 100;
      const f = input.filter ?? {};
      const filter = {
        userId: f.userId ?? undefined, actor: f.actor ?? undefined, types: f.types ?? undefined,
        // Addresses are kept only as keyed pseudonyms: the filter looks up the pseudonym of the given one.
        addressHash: f.address ? ctx.deps.personalData.hashes.address(f.address) : undefined,
        from: f.from ?? undefined, to: f.to ?? undefined, correlationId: f.correlationId ?? undefined, outcome: f.outcome ?? undefined,
      };
      const { rows, more } = await findAuditPage(ctx.deps.db, filter, {
        after: input.after != null ? Number(input.after) : undefined, before: input.before != null ? Number(input.before) : undefined, limit, backwards,
      }, allEventTypes);
      return {
        events: rows,
        nextCursor: !backwards && more ? String(rows.at(-1)!.position) : null,
        hasNextPage: backwards ? input.before != null : more,
        hasPreviousPage: backwards ? more : input.after != null,
      };
    },
  }),
);

builder.queryField('sessionProvenance', (t) =>
  t.field({
    type: [AuditEventRef],
    errors: {},
    authScopes: privileged('auditor'),
    description:
      'How a session came to be and what happened to it, in log order: its login flow, every factor attempt of that flow (failures ' +
      'included), the start, activity, reauthentications, token rotations and its end (auditor role).',
    args: { sessionId: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => sessionProvenance(ctx.deps, parseInput(z.object({ sessionId: z.string().min(1).max(128) }), args).sessionId),
  }),
);

const treeSizeSchema = z.string().regex(/^\d{1,15}$/, 'must be a tree size');
const verificationArgsSchema = z.object({
  knownTreeSize: treeSizeSchema.nullish(),
  knownRoot: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256 root').nullish(),
});

builder.queryField('auditVerification', (t) =>
  t.field({
    type: ChainVerificationRef,
    errors: {},
    authScopes: privileged('auditor'),
    description:
      'Checks every stream chain and every signed checkpoint (signature, root recomputed from the events, one unbroken chain of ' +
      'checkpoints) and names what broke and where. Pass a checkpoint you kept (knownTreeSize, knownRoot) to catch a rollback behind it. ' +
      'Against someone who can write the database, only the checkpoints verified with the published public key prove anything (auditor role).',
    args: { knownTreeSize: t.arg.string(), knownRoot: t.arg.string() },
    resolve: (_root, args, ctx) => {
      const input = parseInput(verificationArgsSchema, args);
      if ((input.knownTreeSize == null) !== (input.knownRoot == null)) throw new DomainError('VALIDATION_FAILED', 'knownRoot: give both knownTreeSize and knownRoot', { field: 'knownRoot' });
      const known = input.knownTreeSize != null && input.knownRoot != null ? { treeSize: Number(input.knownTreeSize), root: input.knownRoot } : undefined;
      return verifyAuditLog(ctx.deps, known);
    },
  }),
);

builder.queryField('auditInclusionProof', (t) =>
  t.field({
    type: InclusionProofRef,
    errors: {},
    authScopes: privileged('auditor'),
    description: 'That the event at `position` is in the latest signed tree (RFC 6962 audit path); NOT_FOUND until a checkpoint covers it (auditor role).',
    args: { position: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => inclusionProof(ctx.deps, Number(parseInput(z.object({ position: z.string().regex(/^\d{1,18}$/, 'must be a position') }), args).position)),
  }),
);

builder.queryField('auditConsistencyProof', (t) =>
  t.field({
    type: ConsistencyProofRef,
    errors: {},
    authScopes: privileged('auditor'),
    description: 'That the tree of `toSize` leaves extends the tree of `fromSize` (RFC 6962 consistency proof), for auditors who keep earlier checkpoints (auditor role).',
    args: { fromSize: t.arg.string({ required: true }), toSize: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => {
      const input = parseInput(z.object({ fromSize: treeSizeSchema, toSize: treeSizeSchema }), args);
      return consistencyProof(ctx.deps, Number(input.fromSize), Number(input.toSize));
    },
  }),
);

interface AnalyticsArgs { from: Date; to: Date; bucket: AnalyticsBucket; timeZone: string }

const AnalyticsBucketRef = builder.enumType('AnalyticsBucket', {
  description: 'Series buckets: hours, days, or ISO weeks (starting on Monday), at the boundaries of the query\'s time zone.',
  values: ['HOUR', 'DAY', 'WEEK'] as const,
});

const KeyCountRef = builder.objectRef<{ key: string; count: number }>('KeyCount').implement({
  fields: (t) => ({ key: t.exposeString('key'), count: t.exposeInt('count') }),
});

const entries = (record: Record<string, number>): Array<{ key: string; count: number }> => Object.entries(record).map(([key, count]) => ({ key, count }));

const AnalyticsPointRef = builder.objectRef<AnalyticsPoint>('AnalyticsPoint').implement({
  description: 'One bucket of the series. Counters count what happened in the bucket; users* are as they stood at its end.',
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (p) => p.start }),
    logins: t.int({ description: 'Completed logins (signups not included).', resolve: (p) => Object.values(p.logins).reduce((a, n) => a + n, 0) }),
    loginsByMethod: t.field({
      type: [MethodCountRef],
      description: 'password, password+totp, password+recovery_code, password+webauthn, passkey, trusted_device, email_code.',
      resolve: (p) => Object.entries(p.logins).map(([method, count]) => ({ method, count })),
    }),
    outcomes: t.field({ type: [KeyCountRef], description: 'completed, password_rejected, mfa_failed, expired, abandoned.', resolve: (p) => entries(p.outcomes) }),
    failures: t.int({ description: 'Rejected secrets on every path (passwords, codes, keys, reauthentication).', resolve: (p) => p.failures }),
    backoffs: t.int({ description: 'Failures that began a back-off (at or past LOCKOUT_BACKOFF_AFTER in a row).', resolve: (p) => p.backoffs }),
    lockouts: t.int({ resolve: (p) => p.lockouts }),
    recoveryCodesUsed: t.int({ resolve: (p) => p.recoveryCodesUsed }),
    newDeviceLogins: t.int({ resolve: (p) => p.newDeviceLogins }),
    detections: t.int({ resolve: (p) => p.detections }),
    activeSessions: t.int({ description: 'Sessions seen in the bucket (started, active or reauthenticated).', resolve: (p) => p.activeSessions }),
    activeUsers: t.int({ resolve: (p) => p.activeUsers }),
    signups: t.int({ resolve: (p) => p.signups }),
    firstFactors: t.int({ description: 'Users who enrolled their first second factor.', resolve: (p) => p.firstFactors }),
    averageSecondsToEnrol: t.float({ nullable: true, resolve: (p) => p.averageSecondsToEnrol }),
    factorsEnrolled: t.field({ type: [KeyCountRef], resolve: (p) => entries(p.factorsEnrolled) }),
    factorsRemoved: t.field({ type: [KeyCountRef], resolve: (p) => entries(p.factorsRemoved) }),
    users: t.int({ resolve: (p) => p.users }),
    usersWithFactor: t.int({ resolve: (p) => p.usersWithFactor }),
    usersWithTotp: t.int({ resolve: (p) => p.usersWithTotp }),
    usersWithWebAuthn: t.int({ resolve: (p) => p.usersWithWebAuthn }),
    mfaAdoption: t.float({ description: 'usersWithFactor ÷ users (0 when there are none).', resolve: (p) => (p.users === 0 ? 0 : p.usersWithFactor / p.users) }),
  }),
});

const AnalyticsLagRef = builder.objectRef<AnalyticsLag>('AnalyticsLag').implement({
  description: 'How far the asynchronous analysis tables are behind the log.',
  fields: (t) => ({
    events: t.int({ description: 'Committed events not yet applied.', resolve: (l) => l.events }),
    seconds: t.float({ description: 'Age of the oldest of them (0 when caught up).', resolve: (l) => l.seconds }),
  }),
});

/** Whether a selection (through inline fragments and named ones) asks for `field`. */
function selects(set: SelectionSetNode | undefined, field: string, fragments: Record<string, FragmentDefinitionNode>): boolean {
  return (set?.selections ?? []).some((s) => {
    if (s.kind === Kind.FIELD) return s.name.value === field;
    if (s.kind === Kind.INLINE_FRAGMENT) return selects(s.selectionSet, field, fragments);
    return selects(fragments[s.name.value]?.selectionSet, field, fragments);
  });
}

const seriesOf = new WeakMap<AnalyticsArgs, Promise<AnalyticsPoint[]>>();

const MethodCountRef = builder.objectRef<{ method: string; count: number }>('MethodCount').implement({
  fields: (t) => ({ method: t.exposeString('method'), count: t.exposeInt('count') }),
});
const TypeCountRef = builder.objectRef<{ type: string; count: number }>('TypeCount').implement({
  fields: (t) => ({ type: t.exposeString('type'), count: t.exposeInt('count') }),
});

const SessionAnalyticsRef = builder.objectRef<AnalyticsArgs>('SessionAnalytics').implement({
  fields: (t) => ({
    from: t.field({ type: 'DateTime', resolve: (a) => a.from }),
    to: t.field({ type: 'DateTime', resolve: (a) => a.to }),
    bucket: t.field({ type: AnalyticsBucketRef, resolve: (a) => a.bucket.toUpperCase() as 'HOUR' | 'DAY' | 'WEEK' }),
    timeZone: t.string({ resolve: (a) => a.timeZone }),
    series: t.field({
      type: [AnalyticsPointRef],
      description: 'One point per bucket, from the analysis tables (asynchronous: see `lag`).',
      resolve: (a, _args, ctx) => {
        let series = seriesOf.get(a);
        if (!series) seriesOf.set(a, (series = analyticsSeries(ctx.deps.db, a)));
        return series;
      },
    }),
    lag: t.field({ type: AnalyticsLagRef, resolve: (_a, _args, ctx) => analyticsLag(ctx.deps.db) }),
    loginsByMethod: t.field({ type: [MethodCountRef], resolve: (a, _args, ctx) => loginsByMethod(ctx.deps.db, a) }),
    activeSessions: t.int({
      resolve: (_a, _args, ctx) => activeSessionCount(ctx.deps.db, ctx.deps.clock.now(), ctx.deps.config.sessionIdleTimeoutSeconds, ctx.deps.config.sessionAbsoluteTimeoutSeconds),
    }),
    users: t.int({ resolve: async (_a, _args, ctx) => (await mfaAdoption(ctx.deps.db)).users }),
    usersWithSecondFactor: t.int({ resolve: async (_a, _args, ctx) => (await mfaAdoption(ctx.deps.db)).withSecondFactor }),
    mfaAdoption: t.float({
      description: 'Share of users with a second factor (0 to 1).',
      resolve: async (_a, _args, ctx) => {
        const { users, withSecondFactor } = await mfaAdoption(ctx.deps.db);
        return users === 0 ? 0 : withSecondFactor / users;
      },
    }),
    loginAttempts: t.int({ resolve: async (a, _args, ctx) => (await authenticationFailures(ctx.deps.db, a)).attempts }),
    loginFailures: t.int({ resolve: async (a, _args, ctx) => (await authenticationFailures(ctx.deps.db, a)).failures }),
    failureRate: t.float({
      resolve: async (a, _args, ctx) => {
        const { attempts, failures } = await authenticationFailures(ctx.deps.db, a);
        return attempts === 0 ? 0 : failures / attempts;
      },
    }),
    rejectionsByType: t.field({ type: [TypeCountRef], resolve: async (a, _args, ctx) => (await authenticationFailures(ctx.deps.db, a)).byType }),
  }),
});

builder.queryField('sessionAnalytics', (t) =>
  t.field({
    type: SessionAnalyticsRef,
    errors: {},
    authScopes: privileged('analyst'),
    description: 'Session activity for analysts: logins by method, active sessions, MFA adoption, failure rates (analyst role).',
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      bucket: t.arg({ type: AnalyticsBucketRef, defaultValue: 'DAY', required: true }),
      timeZone: t.arg.string({ defaultValue: 'UTC', required: true, description: 'IANA time zone whose midnights bound days and weeks.' }),
    },
    resolve: (_root, args, _ctx, info) => {
      if (args.to.getTime() <= args.from.getTime()) throw new DomainError('VALIDATION_FAILED', 'to: must be after from', { field: 'to' });
      const query = { from: args.from, to: args.to, bucket: args.bucket.toLowerCase() as AnalyticsBucket, timeZone: args.timeZone };
      // The bucket limit is for the series: the totals alone may span any range.
      validateAnalyticsQuery(query, { series: selects(info.fieldNodes[0]?.selectionSet, 'series', info.fragments) });
      return query;
    },
  }),
);

builder.queryField('analyticsLag', (t) =>
  t.field({
    type: AnalyticsLagRef,
    errors: {},
    authScopes: privileged('analyst'),
    description: 'How far the asynchronous analysis tables are behind the log (analyst role).',
    resolve: (_root, _args, ctx) => analyticsLag(ctx.deps.db),
  }),
);
