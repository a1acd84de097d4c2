// Time travel (auditor, AAL2): a user's account, factors and live sessions as they stood at an instant.
import { untrustedBucket } from '../domain/user/state.js';
import { z } from 'zod';
import { authenticatorsAt, sessionsAt, userAt } from '../application/timeTravel.js';
import type { AuthenticatorsState } from '../domain/authenticators/state.js';
import type { SessionState } from '../domain/session/state.js';
import type { UserState } from '../domain/user/state.js';
import { parseInput } from '../application/validation.js';
import { AuthenticatorTypeEnum } from './authenticators.js';
import { builder, privileged } from './builder.js';

interface FactorAt { type: 'TOTP' | 'RECOVERY_CODES' | 'WEBAUTHN'; id: string; name: string | null; isPasswordless: boolean; unusedCodeCount: number | null; createdAt: string; lastUsedAt: string | null }

function factorsOf(state: AuthenticatorsState): FactorAt[] {
  const factors: FactorAt[] = [];
  if (state.totp.status === 'active' && state.totp.createdAt) {
    factors.push({ type: 'TOTP', id: 'totp', name: null, isPasswordless: false, unusedCodeCount: null, createdAt: state.totp.createdAt, lastUsedAt: state.totp.lastUsedAt });
  }
  if (state.recoveryCodes) {
    const set = state.recoveryCodes;
    factors.push({ type: 'RECOVERY_CODES', id: set.setId, name: null, isPasswordless: false, unusedCodeCount: set.codeHashes.length - set.usedIndexes.length, createdAt: set.createdAt, lastUsedAt: set.lastUsedAt });
  }
  for (const c of state.webauthn) {
    factors.push({ type: 'WEBAUTHN', id: c.authenticatorId, name: c.name, isPasswordless: c.isPasswordless, unusedCodeCount: null, createdAt: c.createdAt, lastUsedAt: c.lastUsedAt });
  }
  return factors;
}

const UserAtRef = builder.objectRef<UserState>('UserAt').implement({
  description: 'An account as it stood at an instant.',
  fields: (t) => ({
    userId: t.string({ resolve: (u) => u.userId! }),
    email: t.string({ nullable: true, resolve: (u) => u.email }),
    roles: t.stringList({ resolve: (u) => u.roles }),
    createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (u) => (u.createdAt ? new Date(u.createdAt) : null) }),
    deleted: t.exposeBoolean('deleted'),
    lockedUntil: t.string({ nullable: true, description: 'The lock on attempts from devices the account did not know (strangers).', resolve: (u) => u.locks[untrustedBucket] ?? null }),
  }),
});

const AuthenticatorAtRef = builder.objectRef<FactorAt>('AuthenticatorAt').implement({
  description: 'A factor a user had at an instant.',
  fields: (t) => ({
    type: t.field({ type: AuthenticatorTypeEnum, resolve: (f) => f.type }),
    id: t.exposeString('id'),
    name: t.exposeString('name', { nullable: true }),
    isPasswordless: t.exposeBoolean('isPasswordless'),
    unusedCodeCount: t.exposeInt('unusedCodeCount', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (f) => new Date(f.createdAt) }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (f) => (f.lastUsedAt ? new Date(f.lastUsedAt) : null) }),
  }),
});

const SessionAtRef = builder.objectRef<SessionState>('SessionAt').implement({
  description: 'A session live at an instant.',
  fields: (t) => ({
    id: t.string({ resolve: (s) => s.sessionId! }),
    aal: t.int({ resolve: (s) => s.aal }),
    methods: t.stringList({ resolve: (s) => s.methods.map((m) => m.method) }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => new Date(s.createdAt!) }),
    lastActivityAt: t.field({ type: 'DateTime', resolve: (s) => new Date(s.lastActivityAt!) }),
    reauthenticatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => (s.reauthenticatedAt ? new Date(s.reauthenticatedAt) : null) }),
  }),
});

const argsSchema = z.object({ userId: z.string().min(1).max(128), at: z.date() });

builder.queryField('userAt', (t) =>
  t.field({
    type: UserAtRef, nullable: true, errors: {}, authScopes: privileged('auditor'),
    description: 'The account as it stood at `at`, folded from its stream (null before it existed) (auditor role).',
    args: { userId: t.arg.string({ required: true }), at: t.arg({ type: 'DateTime', required: true }) },
    resolve: (_root, args, ctx) => {
      const input = parseInput(argsSchema, args);
      return userAt(ctx.deps, input.userId, input.at);
    },
  }),
);

builder.queryField('authenticatorsAt', (t) =>
  t.field({
    type: [AuthenticatorAtRef], errors: {}, authScopes: privileged('auditor'),
    description: 'The factors the user had at `at` (auditor role).',
    args: { userId: t.arg.string({ required: true }), at: t.arg({ type: 'DateTime', required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(argsSchema, args);
      return factorsOf(await authenticatorsAt(ctx.deps, input.userId, input.at));
    },
  }),
);

builder.queryField('sessionsAt', (t) =>
  t.field({
    type: [SessionAtRef], errors: {}, authScopes: privileged('auditor'),
    description: 'The sessions live at `at`: started, not ended, within their idle and absolute limits (auditor role).',
    args: { userId: t.arg.string({ required: true }), at: t.arg({ type: 'DateTime', required: true }) },
    resolve: (_root, args, ctx) => {
      const input = parseInput(argsSchema, args);
      return sessionsAt(ctx.deps, input.userId, input.at);
    },
  }),
);
