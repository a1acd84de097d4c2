// The facts of the request behind a use case, whichever transport carried it: for the budget (the address), the
// session record and the events' metadata.
import type { EventMetadata } from '../eventstore/index.js';

export interface RequestFacts {
  /** The client address (socket, or the right-most untrusted X-Forwarded-For hop); '' for the system itself. */
  clientAddress: string;
  userAgent: string;
  /** Minted by the server for this request: the correlation id of every event it writes. */
  requestId: string;
  /**
   * The caller's own id for the request (X-Request-Id), when it sent a well-formed one: a claim, kept beside the
   * correlation id under its own name and never instead of it.
   */
  clientRequestId?: string;
  /** Who acts: a user id, 'anonymous' or 'system'. */
  actor: string;
  /** The position of the event that caused this one (reactions such as a lockout). */
  causationId?: string;
  /** The device the request came from (its verified device cookie or token); absent for the system and the CLI. */
  deviceId?: string;
  /** Set by a use case once it knows the account: the attempt bucket this request's verifications count in. */
  attemptBucket?: string;
}

export function metadataOf(request: RequestFacts): EventMetadata {
  return {
    ...(request.requestId ? { correlationId: request.requestId } : {}),
    ...(request.clientRequestId ? { clientRequestId: request.clientRequestId } : {}),
    ...(request.causationId !== undefined ? { causationId: request.causationId } : {}),
    actor: request.actor,
    ...(request.clientAddress ? { ip: request.clientAddress } : {}),
    ...(request.userAgent ? { userAgent: request.userAgent } : {}),
    ...(request.deviceId ? { deviceId: request.deviceId } : {}),
    ...(request.attemptBucket ? { attemptBucket: request.attemptBucket } : {}),
  };
}

export function actingAs(request: RequestFacts, actor: string): RequestFacts {
  return { ...request, actor };
}

/** The service acting on its own (a lock, an expired lock's end), caused by an event or by nothing. */
export function systemRequest(causation?: { position: number; metadata: EventMetadata }): RequestFacts {
  return {
    clientAddress: '',
    userAgent: '',
    requestId: causation?.metadata.correlationId ?? '',
    actor: 'system',
    ...(causation ? { causationId: String(causation.position) } : {}),
  };
}
