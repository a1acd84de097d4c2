// Administration of abuse resistance: an administrator ends a lockout (UserUnlocked by 'admin', which also resets
// the account's consecutive failures).
import { z } from 'zod';
import { unlockUser } from '../security/lockout.js';
import { builder } from './builder.js';
import { requestInfo } from './guards.js';
import { idSchema, parseInput } from './validation.js';

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
    authScopes: { role: 'admin' },
    args: { userId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { userId } = parseInput(z.object({ userId: idSchema }), { userId: args.userId });
      return { userId, unlocked: await unlockUser(ctx.app, userId, requestInfo(ctx)) };
    },
  }),
);
