// The account and the ownership of an email address, as aggregates the command handler can run.
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

/**
 * Keyed by the address's keyed hash (HMAC-SHA256 under a server key, computed by the application: the domain holds no
 * key), never by the address or its plain SHA-256, which anyone could confirm by guessing.
 */
export const emailClaimAggregate: Aggregate<EmailClaimState, EmailClaimEvent, EmailClaimCommand> = {
  streamId: (emailKey) => streams.emailClaim(emailKey),
  initialState: initialEmailClaimState,
  evolve: evolveEmailClaim,
  decide: decideEmailClaim,
};
