// Typed failures of the event log. Callers branch on the class; the code is stable and greppable.
export type EventStoreErrorCode =
  | 'CONCURRENCY_CONFLICT'
  | 'INVALID_STREAM_ID'
  | 'UNKNOWN_EVENT_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_PAYLOAD'
  | 'IDEMPOTENCY_CONFLICT';

export class EventStoreError extends Error {
  constructor(readonly code: EventStoreErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Another writer appended to the stream first: re-read and decide again. */
export class ConcurrencyError extends EventStoreError {
  constructor(readonly streamId: string, readonly expectedVersion: number, readonly actualVersion?: number) {
    super('CONCURRENCY_CONFLICT', `stream ${streamId} is not at version ${expectedVersion}`);
  }
}
