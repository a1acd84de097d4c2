// Administration of abuse resistance: an administrator ends a lockout (UserUnlocked by 'admin', which also resets
// the account's consecutive failures).
import { z } from 'zod';
import { unlockUser } from '../application/lockout.js';
import { eraseUser } from '../application/accountChanges.js';
import { idSchema, parseInput } from '../application/validation.js';
import { builder, privileged } from './builder.js';

const UnlockUserPayloadRef = builder.objectRef<{ userId: string; unlocked: boolean }>('UnlockUserPayload').implement({
  fields: (t) => ({
    userId: t.exposeID('userId'),
    unlocked: t.exposeBoolean('unlocked', { description: 'Whether the account is now unlocked.' }),
  }),
});

builder.mutationField('unlockUser', (t) =>
  t.field({
    errors: {},
    type: UnlockUserPayloadRef,
    authScopes: privileged('admin'),
    args: { userId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { userId } = parseInput(z.object({ userId: idSchema }), { userId: args.userId });
      return { userId, unlocked: await unlockUser(ctx.deps, userId, ctx.request) };
    },
  }),
);

const EraseUserPayloadRef = builder.objectRef<{ userId: string; erasedAt: string }>('EraseUserPayload').implement({
  fields: (t) => ({
    userId: t.exposeID('userId'),
    erasedAt: t.exposeString('erasedAt', { description: 'When the personal data key was destroyed (ISO 8601).' }),
  }),
});

const EraseUserInputRef = builder.inputType('EraseUserInput', {
  fields: (t) => ({
    userId: t.id({ required: true }),
    reason: t.string({ required: true, description: 'Why (a ticket number, a legal basis). Kept in clear in UserErased: it must not contain personal data.' }),
  }),
});

builder.mutationField('eraseUser', (t) =>
  t.field({
    errors: {},
    type: EraseUserPayloadRef,
    description: 'Erases a person (issue 14 item 0): deletes the account if it still exists, records UserErased, destroys their data key. Events and proofs stay.',
    authScopes: privileged('admin'),
    args: { input: t.arg({ type: EraseUserInputRef, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { userId, reason } = parseInput(z.object({ userId: idSchema, reason: z.string() }), args.input);
      if (ctx.caller.kind !== 'session') throw new Error('unreachable: privileged field without a session');
      return eraseUser(ctx.deps, ctx.caller.user.id, { userId, reason }, ctx.request);
    },
  }),
);
