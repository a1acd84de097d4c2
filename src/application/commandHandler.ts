// The one command handler every aggregate goes through (Emmett's CommandHandler): load the stream, fold it, decide,
// append the decision at the version that was read. A writer that got there first makes the append fail with a
// ConcurrencyError; `store.transactionWithRetry` then runs the whole unit again on the new state.
import type { Queryable } from '../db/index.js';
import type { Aggregate, DomainEvent } from '../domain/shared/decider.js';
import { createHash } from 'node:crypto';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import type { EventStore, Fold, RecordedEvent } from '../eventstore/index.js';
import type { WriteDeps } from './deps.js';
import { metadataOf, type RequestFacts } from './request.js';

export interface Loaded<State> {
  state: State;
  version: number;
}

/**
 * The aggregates whose streams grow with every use (each accepted TOTP code appends to the user's authenticators) are
 * loaded from a snapshot plus the events after it (EventStore.readFolded), so a request reads a bounded number of
 * events whatever the history. The kind carries the fold's version and a digest of its source, so a snapshot written
 * by a different fold is ignored rather than trusted. Snapshots are sealed with the service's key, not the person's,
 * and the authenticators' state holds the names of WebAuthn credentials (personal data, sealed under the person's key
 * in the events): a user's snapshots are deleted with the account and on erasure (UserDeleted, UserErased, in the
 * inline step of app.ts, and again at start for every erased person), and a transaction that appended one of those
 * writes no snapshot afterwards.
 */
function snapshotFold<State, Event extends DomainEvent, Command>(aggregate: Aggregate<State, Event, Command>, name: string, version: number): Fold<State> {
  const digest = createHash('sha256').update(aggregate.evolve.toString()).digest('hex').slice(0, 12);
  return {
    kind: `${name}@${version}.${digest}`,
    initialState: aggregate.initialState,
    evolve: (state, event) => aggregate.evolve(state, event as unknown as Event),
    snapshotEvery: 32,
    noSnapshotAfter: ['UserDeleted', 'UserErased'],
  };
}

const authenticatorsSnapshots = snapshotFold(authenticatorsAggregate, 'authenticators', 1);

/** The authenticators' fold, as `load` uses it (for tests and tools that read through the snapshot themselves). */
export function authenticatorsFold(): Fold<ReturnType<typeof authenticatorsAggregate.evolve>> {
  return authenticatorsSnapshots;
}

const snapshotted = new Map<unknown, Fold<unknown>>([[authenticatorsAggregate, authenticatorsSnapshots as Fold<unknown>]]);

export async function load<State, Event extends DomainEvent, Command>(
  store: EventStore,
  aggregate: Aggregate<State, Event, Command>,
  id: string,
  tx?: Queryable,
): Promise<Loaded<State>> {
  const fold = snapshotted.get(aggregate) as Fold<State> | undefined;
  if (fold) {
    const { state, version } = await store.readFolded(aggregate.streamId(id), fold, tx);
    return { state, version };
  }
  const events: RecordedEvent[] = await store.readStream(aggregate.streamId(id), { tx });
  const state = events.reduce((s, e) => aggregate.evolve(s, e as unknown as Event), aggregate.initialState);
  return { state, version: events.length === 0 ? 0 : events[events.length - 1]!.version };
}

/**
 * Reads the streams a command is about to load, in one statement, for the transaction's next load of each (the
 * unit of work keeps them until it appends to one).
 */
export async function loadAhead(deps: WriteDeps, tx: Queryable, streams: ReadonlyArray<{ aggregate: { streamId(id: string): string }; id: string }>): Promise<void> {
  await deps.store.readStreams(streams.map((s) => s.aggregate.streamId(s.id)), tx);
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
    // In a store transaction the append waits and goes out with the transaction's other appends as one (EventStore's
    // unit of work); the version check still happens there, before COMMIT.
    await deps.store.appendDeferred(aggregate.streamId(id), events, { expectedVersion: version, metadata: metadataOf(request), now: deps.clock.now(), tx });
  }
  return { state: events.reduce(aggregate.evolve, state), events };
}
