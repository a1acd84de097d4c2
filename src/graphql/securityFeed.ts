// The live security feed: a subscription over SSE (graphql-yoga's built-in). Auditors see every event, everyone else
// with a session only their own.
import { DomainError } from '../domain/shared/errors.js';
import { z } from 'zod';
import { feedStart, securityFeed, type FeedItem } from '../application/securityFeed.js';
import { parseInput } from '../application/validation.js';
import { builder } from './builder.js';
import { AuditEventRef } from './audit.js';

const SecurityEventRef = builder.objectRef<FeedItem>('SecurityEvent').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Pass as `after` to resume after this event (a reconnect loses and repeats nothing).' }),
    event: t.field({ type: AuditEventRef, resolve: (item) => item.event }),
  }),
});

const SecurityEventFilterInput = builder.inputType('SecurityEventFilter', {
  fields: (t) => ({
    userId: t.string({ description: 'Auditors: one user\'s events. Everyone else sees only their own anyway.' }),
    types: t.stringList(),
  }),
});

const argsSchema = z.object({
  filter: z.object({ userId: z.string().max(128).nullish(), types: z.array(z.string().regex(/^[A-Za-z]{1,64}$/)).max(50).nullish() }).nullish(),
  after: z.string().max(64).nullish(),
});

type Delivery = FeedItem | { refused: DomainError };

/** A refusal travels as the feed's one item, so the field's resolver returns it as an error of the union, like any field's. */
async function* refusal(error: DomainError): AsyncGenerator<Delivery> {
  yield { refused: error };
}

builder.subscriptionType({});

builder.subscriptionField('securityEvents', (t) =>
  t.field({
    type: SecurityEventRef,
    errors: {},
    description:
      'Security events as they commit, once each, in log order, from `after` (a cursor) or from now. Auditors (at AAL2) see all; ' +
      'everyone else with a session sees their own.',
    args: { filter: t.arg({ type: SecurityEventFilterInput }), after: t.arg.string() },
    subscribe: async (_root, args, ctx): Promise<AsyncIterable<Delivery>> => {
      try {
        const input = parseInput(argsSchema, args);
        const caller = ctx.caller;
        if (caller.kind !== 'session' || caller.session.enrollOnly) return refusal(new DomainError('NOT_AUTHENTICATED'));
        const auditor = caller.user.roles.includes('auditor') && caller.session.aal >= 2;
        const wanted = input.filter?.userId ?? undefined;
        if (!auditor && wanted !== undefined && wanted !== caller.session.userId) return refusal(new DomainError('FORBIDDEN'));
        const after = await feedStart(ctx.deps, input.after ?? null);
        return securityFeed(ctx.deps, { userId: auditor ? wanted : caller.session.userId, types: input.filter?.types ?? undefined, after, signal: ctx.signal });
      } catch (error) {
        if (error instanceof DomainError) return refusal(error);
        throw error;
      }
    },
    resolve: (item: Delivery) => {
      if ('refused' in item) throw item.refused;
      return item;
    },
  }),
);
