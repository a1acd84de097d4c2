// Administration of abuse resistance: an administrator ends a lockout (UserUnlocked by 'admin', which also resets
// the account's consecutive failures).
import { z } from 'zod';
import { unlockUser } from '../application/lockout.js';
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
