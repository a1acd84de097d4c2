// Auditors and analysts: their own fields, behind their roles (DESIGN.md §5).
import { z } from 'zod';
import type { AuditBreak, LogVerification } from '../eventstore/verifyLog.js';
import type { Checkpoint } from '../eventstore/checkpoints.js';
import { consistencyProof, inclusionProof, verifyAuditLog, type ConsistencyProof, type InclusionProof } from '../application/auditLog.js';
import { findAuditEvents, type AuditRow } from '../projections/audit.js';
import { activeSessionCount, authenticationFailures, loginsByMethod, mfaAdoption } from '../projections/analytics.js';
import { DomainError } from '../domain/shared/errors.js';
import { builder, privileged } from './builder.js';
import { parseInput } from '../application/validation.js';

const AuditEventRef = builder.objectRef<AuditRow>('AuditEvent').implement({
  fields: (t) => ({
    position: t.string({ description: 'Global position in the log (a bigint, as a string).', resolve: (r) => String(r.position) }),
    streamId: t.string({ resolve: (r) => r.stream_id }),
    version: t.int({ resolve: (r) => r.version }),
    type: t.string({ resolve: (r) => r.type }),
    userId: t.string({ nullable: true, resolve: (r) => r.user_id }),
    actor: t.string({ nullable: true, resolve: (r) => r.actor }),
    correlationId: t.string({ nullable: true, resolve: (r) => r.correlation_id }),
    ip: t.string({ nullable: true, resolve: (r) => r.ip }),
    userAgent: t.string({ nullable: true, resolve: (r) => r.user_agent }),
    summary: t.field({ type: 'JSON', description: 'The event data without secret-bearing fields.', resolve: (r) => r.summary }),
    hash: t.string({ resolve: (r) => r.hash }),
    recordedAt: t.field({ type: 'DateTime', resolve: (r) => r.recorded_at }),
  }),
});

const AuditPageRef = builder.objectRef<{ events: AuditRow[]; nextCursor: string | null }>('AuditPage').implement({
  fields: (t) => ({
    events: t.field({ type: [AuditEventRef], resolve: (p) => p.events }),
    nextCursor: t.string({ nullable: true, description: 'Pass as `after` for the next page; null at the end.', resolve: (p) => p.nextCursor }),
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

const AuditFilterInput = builder.inputType('AuditFilter', {
  fields: (t) => ({
    userId: t.string(),
    types: t.stringList(),
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
    correlationId: t.string(),
  }),
});

const auditArgsSchema = z.object({
  filter: z.object({
    userId: z.string().max(128).nullish(),
    types: z.array(z.string().regex(/^[A-Za-z]{1,64}$/)).max(50).nullish(),
    from: z.date().nullish(),
    to: z.date().nullish(),
    correlationId: z.string().max(128).nullish(),
  }).nullish(),
  after: z.string().regex(/^\d{1,18}$/, 'must be a position').nullish(),
  first: z.number().int().min(1).max(1000).nullish(),
});

builder.queryField('auditEvents', (t) =>
  t.field({
    type: AuditPageRef,
    errors: {},
    authScopes: privileged('auditor'),
    description: 'The MFA event history, filtered and paged by position (auditor role). Page through it to export.',
    args: { filter: t.arg({ type: AuditFilterInput }), after: t.arg.string(), first: t.arg.int() },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(auditArgsSchema, args);
      const limit = input.first ?? 100;
      const f = input.filter ?? {};
      const events = await findAuditEvents(ctx.deps.db, {
        userId: f.userId ?? undefined, types: f.types ?? undefined, from: f.from ?? undefined, to: f.to ?? undefined, correlationId: f.correlationId ?? undefined,
      }, Number(input.after ?? 0), limit);
      return { events, nextCursor: events.length === limit ? String(events[events.length - 1]!.position) : null };
    },
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

interface AnalyticsArgs { from: Date; to: Date }

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
    args: { from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
    resolve: (_root, args) => {
      if (args.to.getTime() <= args.from.getTime()) throw new DomainError('VALIDATION_FAILED', 'to: must be after from', { field: 'to' });
      return { from: args.from, to: args.to };
    },
  }),
);
