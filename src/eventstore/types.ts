export interface EventMetadata {
  /** What the event belongs to: its login flow's id for the requests of one login, else the request's id (below). */
  correlationId?: string;
  /** The request that wrote the event: an id the server minted (never one a caller chose). */
  requestId?: string;
  /** The caller's own X-Request-Id for that request, as it claimed it: for matching a frontend's trace, not trusted. */
  clientRequestId?: string;
  /** What caused it: the position of the event a reaction answers, else the request id. */
  /** What caused it: the position of the event a reaction answers, else the id of the request that wrote it. */
  causationId?: string;
  /** Who caused it: a user id, 'system', or 'anonymous'. */
  actor?: string;
  ip?: string;
  userAgent?: string;
  /** The device the request came from (its device cookie or token). */
  deviceId?: string;
  /** Whose attempts a verification counted in: a known device of the account (its id) or 'untrusted'. */
  attemptBucket?: string;
}

export interface NewEvent {
  type: string;
  data: Record<string, unknown>;
}

export interface RecordedEvent<T extends string = string, D = Record<string, unknown>> {
  position: number;
  txId: string;
  streamId: string;
  version: number;
  type: T;
  data: D;
  metadata: EventMetadata;
  recordedAt: Date;
  prevHash: string;
  hash: string;
  /** How `hash` was computed (hashChain.ts): events keep the version they were written with. */
  hashVersion: number;
}

/** A place in the log: transaction id first, then position (DESIGN.md §3). */
export interface LogCheckpoint {
  txId: string;
  position: number;
}

export const logStart: LogCheckpoint = { txId: '0', position: 0 };

/** Either a known version (0: the stream must not exist yet) or 'any' (no check, used by operators' tools only). */
export type ExpectedVersion = number | 'any';
