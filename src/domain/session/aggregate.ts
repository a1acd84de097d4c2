import type { Aggregate } from '../shared/decider.js';
import { streams } from '../shared/streams.js';
import type { SessionCommand } from './commands.js';
import { decideSession } from './decide.js';
import type { SessionEvent } from './events.js';
import { evolveSession, initialSessionState, type SessionState } from './state.js';

export const sessionAggregate: Aggregate<SessionState, SessionEvent, SessionCommand> = {
  streamId: streams.session,
  initialState: initialSessionState,
  evolve: evolveSession,
  decide: decideSession,
};
