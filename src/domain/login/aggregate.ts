import type { Aggregate } from '../shared/decider.js';
import { streams } from '../shared/streams.js';
import type { LoginCommand } from './commands.js';
import { decideLogin } from './decide.js';
import type { LoginEvent } from './events.js';
import { evolveLogin, initialLoginState, type LoginState } from './state.js';

/** One login attempt, from its start to its session (or its end). */
export const loginAggregate: Aggregate<LoginState, LoginEvent, LoginCommand> = {
  streamId: streams.login,
  initialState: initialLoginState,
  evolve: evolveLogin,
  decide: decideLogin,
};
