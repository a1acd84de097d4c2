// Time travel for auditors (issue 14 item 5): a user's account, factors and live sessions as they stood at an instant,
// folded from the streams by the same evolve functions the deciders use, over the events recorded up to that instant.
import { eventColumns, toRecordedEvent } from '../eventstore/eventStore.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { evolveAuthenticators, initialAuthenticatorsState, type AuthenticatorsState } from '../domain/authenticators/state.js';
import type { AuthenticatorEvent } from '../domain/authenticators/events.js';
import { evolveSession, initialSessionState, sessionExpiry, type SessionState } from '../domain/session/state.js';
import type { SessionEvent } from '../domain/session/events.js';
import { evolveUser, initialUserState, type UserState } from '../domain/user/state.js';
import type { UserEvent } from '../domain/user/events.js';
import { streams } from '../domain/shared/streams.js';
import { liveSchema } from '../projections/projector.js';
import type { Deps } from './deps.js';

type TravelDeps = Pick<Deps, 'db' | 'personalData'>;

/** The stream up to the instant, personal data opened (null once the person is erased), as the deciders saw it. */
async function streamUntil(deps: TravelDeps, streamId: string, at: Date): Promise<RecordedEvent[]> {
  const rows = await deps.db.query<Record<string, unknown>>(
    `select ${eventColumns} from events where stream_id = $1 and recorded_at <= $2 order by version`, [streamId, at.toISOString()],
  );
  return deps.personalData.unseal(deps.db, rows.map((r) => toRecordedEvent(r as never)));
}

function fold<S, E>(events: readonly RecordedEvent[], initial: S, evolve: (state: S, event: E) => S): S {
  return events.reduce((state, event) => evolve(state, { type: event.type, data: event.data } as E), initial);
}

export async function userAt(deps: TravelDeps, userId: string, at: Date): Promise<UserState | null> {
  const state = fold<UserState, UserEvent>(await streamUntil(deps, streams.user(userId), at), initialUserState, evolveUser);
  return state.exists ? state : null;
}

export async function authenticatorsAt(deps: TravelDeps, userId: string, at: Date): Promise<AuthenticatorsState> {
  return fold<AuthenticatorsState, AuthenticatorEvent>(await streamUntil(deps, streams.authenticators(userId), at), initialAuthenticatorsState, evolveAuthenticators);
}

/** The sessions live at `at`: started by then, neither revoked nor expired by then, nor past their idle or absolute limit. */
export async function sessionsAt(deps: TravelDeps & Pick<Deps, 'config'>, userId: string, at: Date): Promise<SessionState[]> {
  const started = await deps.db.query<{ stream_id: string }>(
    `select stream_id from ${liveSchema}.audit_events where user_id = $1 and type = 'SessionStarted' and recorded_at <= $2 order by position`,
    [userId, at.toISOString()],
  );
  const timeouts = { idleSeconds: deps.config.sessionIdleTimeoutSeconds, absoluteSeconds: deps.config.sessionAbsoluteTimeoutSeconds };
  const live: SessionState[] = [];
  for (const { stream_id } of started) {
    const state = fold<SessionState, SessionEvent>(await streamUntil(deps, stream_id, at), initialSessionState, evolveSession);
    if (state.status === 'active' && state.createdAt && state.lastActivityAt && sessionExpiry({ createdAt: state.createdAt, lastActivityAt: state.lastActivityAt }, at, timeouts) === null) live.push(state);
  }
  return live;
}
