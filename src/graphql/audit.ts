// Auditors and analysts: their own fields, behind their roles (DESIGN.md §5).
import { z } from 'zod';
import { verifyChain } from '../eventstore/index.js';
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

const ChainVerificationRef = builder.objectRef<Awaited<ReturnType<typeof verifyChain>>>('ChainVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    eventsChecked: t.exposeInt('eventsChecked'),
    firstBrokenPosition: t.string({ nullable: true, resolve: (v) => (v.ok ? null : String(v.position)) }),
    brokenStreamId: t.string({ nullable: true, resolve: (v) => (v.ok ? null : v.streamId) }),
    reason: t.string({ nullable: true, resolve: (v) => (v.ok ? null : v.reason) }),
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

builder.queryField('auditVerification', (t) =>
  t.field({
    type: ChainVerificationRef,
    errors: {},
    authScopes: privileged('auditor'),
    description: 'Recomputes the hash chain of every stream: proves no event was altered, removed or reordered (auditor role).',
    resolve: (_root, _args, ctx) => verifyChain(ctx.deps.db),
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
