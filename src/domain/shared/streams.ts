// Loading an aggregate and appending its decision: the I/O half of every handler.
import type { Queryable } from '../../db/index.js';
import { ConcurrencyError, type EventStore, type RecordedEvent } from '../../eventstore/index.js';
import type { DomainEvent } from './decider.js';

export interface Loaded<State> {
  state: State;
  version: number;
}

export async function loadAggregate<State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  initialState: State,
  evolve: (state: State, event: Event) => State,
  tx?: Queryable,
): Promise<Loaded<State>> {
  const events = await store.readStream(streamId, { tx });
  const state = events.reduce((s, e: RecordedEvent) => evolve(s, e as unknown as Event), initialState);
  return { state, version: events.length === 0 ? 0 : events[events.length - 1]!.version };
}

// Enough rounds for every one of many concurrent submitters (20 parallel uses of one code) to lose a race once;
// each round is one short transaction.
const maxConflictRounds = 64;

/**
 * Runs a load-decide-append unit again while another writer wins the race on one of its streams: each round reads the
 * winner's events, so a replayed code or a taken email is then decided against the new state.
 */
export async function retryOnConflict<T>(run: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || round >= maxConflictRounds) throw error;
    }
  }
}

/** Stream names: one place, so nobody spells them twice. */
export const streams = {
  user: (userId: string) => `user-${userId}`,
  emailClaim: (emailHash: string) => `email-${emailHash}`,
  login: (flowId: string) => `login-${flowId}`,
  session: (sessionId: string) => `session-${sessionId}`,
  authenticators: (userId: string) => `authenticators-${userId}`,
  webauthnCredential: (credentialIdHash: string) => `webauthn-credential-${credentialIdHash}`,
  notification: (notificationId: string) => `notification-${notificationId}`,
};
