// The one command handler every aggregate goes through (Emmett's CommandHandler): load the stream, fold it, decide,
// append the decision at the version that was read. A writer that got there first makes the append fail with a
// ConcurrencyError; `store.transactionWithRetry` then runs the whole unit again on the new state.
import type { Queryable } from '../db/index.js';
import type { Aggregate, DomainEvent } from '../domain/shared/decider.js';
import type { EventStore } from '../eventstore/index.js';
import type { WriteDeps } from './deps.js';
import { metadataOf, type RequestFacts } from './request.js';

export interface Loaded<State> {
  state: State;
  version: number;
}

export async function load<State, Event extends DomainEvent, Command>(
  store: EventStore,
  aggregate: Aggregate<State, Event, Command>,
  id: string,
  tx?: Queryable,
): Promise<Loaded<State>> {
  const events = await store.readStream(aggregate.streamId(id), { tx });
  const state = events.reduce((s, e) => aggregate.evolve(s, e as unknown as Event), aggregate.initialState);
  return { state, version: events.length === 0 ? 0 : events[events.length - 1]!.version };
}

export interface Handled<State, Event> {
  /** The state after the new events. */
  state: State;
  events: Event[];
}

export interface HandleOptions<State> {
  /** The stream was just minted (a new login or session id): nothing to read, and version 0 refuses an existing one. */
  isNew?: boolean;
  /** The state this transaction already read (and verified a secret against): decided on without reading again. */
  loaded?: Loaded<State>;
}

export async function handle<State, Event extends DomainEvent, Command>(
  deps: WriteDeps,
  tx: Queryable,
  aggregate: Aggregate<State, Event, Command>,
  id: string,
  command: Command,
  request: RequestFacts,
  options: HandleOptions<State> = {},
): Promise<Handled<State, Event>> {
  const { state, version } = options.isNew ? { state: aggregate.initialState, version: 0 } : options.loaded ?? (await load(deps.store, aggregate, id, tx));
  const events = aggregate.decide(command, state);
  if (events.length > 0) {
    await deps.store.append(aggregate.streamId(id), events, { expectedVersion: version, metadata: metadataOf(request), now: deps.clock.now(), tx });
  }
  return { state: events.reduce(aggregate.evolve, state), events };
}
