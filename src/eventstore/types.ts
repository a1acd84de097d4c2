import type { Queryable } from '../db/index.js';

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
  /** Sealed under the user's data key when the event has a user (opened on read); absent on anonymous events. */
  ip?: string;
  userAgent?: string;
  /** Keyed pseudonyms of the address and user agent (HMAC under a server key): the audit filter, anonymous events. */
  ipHash?: string;
  /** The keyed pseudonym of the address's /24 or /64 (crypto/personalData.ts). */
  networkHash?: string;
  userAgentHash?: string;
  /** The device the request came from (its device cookie or token). */
  deviceId?: string;
  /** Whose attempts a verification counted in: a known device of the account (its id) or 'untrusted'. */
  attemptBucket?: string;
}

/** One SQL statement and its parameters. */
export interface Statement {
  text: string;
  params: unknown[];
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
  /**
   * Set by the sealer on read: the personal fields as the log stores them (their envelopes), which projections copy
   * instead of the clear values (a rebuild copies the same bytes), and whether the person's key is gone (`erased`: the
   * personal fields then read as null).
   */
  personal?: SealedFields;
}

export interface SealedFields {
  data: Record<string, string>;
  metadata: Record<string, string>;
  erased: boolean;
  /** Keyed hashes of opened values that projections look up by (the email), computed by the sealer. */
  hashes?: Record<string, string>;
}

/** One event as it is stored, and as readers will see it once opened (RecordedEvent's `data`, `metadata`, `personal`). */
export interface SealedEvent {
  event: NewEvent;
  metadata: EventMetadata;
  readable: { data: Record<string, unknown>; metadata: EventMetadata; personal?: SealedFields };
}

/**
 * Seals personal data on its way into the log and opens it on its way out (issue 14 item 0). The event store knows
 * nothing of what is personal: the implementation (application/personalDataVault.ts) holds the registry and the keys.
 * Hashes cover what is stored (the sealed form), so destroying a key changes no hash.
 */
export interface EventSealer {
  /**
   * The stored forms of the events and of their metadata (one metadata per event: their subjects may differ), and what
   * `unseal` will make of those stored forms: an append hands that to its projections and reactors without reading back
   * and opening what it has just sealed.
   */
  seal(tx: Queryable, events: readonly NewEvent[], metadata: EventMetadata): Promise<SealedEvent[]>;
  /** The events as readers see them: personal fields open (or null when the key is gone), `personal` set. */
  unseal(q: Queryable, events: RecordedEvent[]): Promise<RecordedEvent[]>;
}

/** A place in the log: transaction id first, then position (DESIGN.md §3). */
export interface LogCheckpoint {
  txId: string;
  position: number;
}

export const logStart: LogCheckpoint = { txId: '0', position: 0 };

/** Either a known version (0: the stream must not exist yet) or 'any' (no check, used by operators' tools only). */
export type ExpectedVersion = number | 'any';
