// The account and the ownership of an email address, as aggregates the command handler can run.
import { createHash } from 'node:crypto';
import type { Aggregate } from '../shared/decider.js';
import { streams } from '../shared/streams.js';
import type { EmailClaimCommand, UserCommand } from './commands.js';
import { decideEmailClaim, decideUser } from './decide.js';
import type { EmailClaimEvent, UserEvent } from './events.js';
import { evolveEmailClaim, evolveUser, initialEmailClaimState, initialUserState, type EmailClaimState, type UserState } from './state.js';

export const userAggregate: Aggregate<UserState, UserEvent, UserCommand> = {
  streamId: streams.user,
  initialState: initialUserState,
  evolve: evolveUser,
  decide: decideUser,
};

/** Keyed by the address itself; the stream id holds only its hash (stream ids are copied into logs and indexes). */
export const emailClaimAggregate: Aggregate<EmailClaimState, EmailClaimEvent, EmailClaimCommand> = {
  streamId: (email) => streams.emailClaim(createHash('sha256').update(email).digest('hex').slice(0, 40)),
  initialState: initialEmailClaimState,
  evolve: evolveEmailClaim,
  decide: decideEmailClaim,
};
