// The shape every aggregate follows (STYLE.md): pure decide/evolve, the handler does the I/O.
export interface DomainEvent<T extends string = string, D extends object = Record<string, unknown>> {
  type: T;
  data: D;
}

export interface Decider<State, Event extends DomainEvent> {
  initialState: State;
  evolve(state: State, event: Event): State;
}

export function fold<State, Event extends DomainEvent>(decider: Decider<State, Event>, events: readonly Event[]): State {
  return events.reduce(decider.evolve, decider.initialState);
}

/**
 * One aggregate: its stream name, its fold and its decisions. Pure: the application's command handler does the I/O
 * (load the stream, fold, decide, append at the expected version) once for every aggregate.
 */
export interface Aggregate<State, Event extends DomainEvent, Command> extends Decider<State, Event> {
  streamId(id: string): string;
  decide(command: Command, state: State): Event[];
}
