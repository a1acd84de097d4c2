// The facts of the request behind a use case, whichever transport carried it: for the budget (the address), the
// session record and the events' metadata.
import type { EventMetadata } from '../eventstore/index.js';
import { newId } from '../crypto/tokens.js';

export interface RequestFacts {
  /** The client address (socket, or the right-most untrusted X-Forwarded-For hop); '' for the system itself. */
  clientAddress: string;
  userAgent: string;
  /** Minted by the server for this request: recorded on every event it writes, and their causation when nothing else is. */
  requestId: string;
  /**
   * What ties this request's events to others: the login flow's id for every request of one login (password, MFA
   * step, abandon), so a flow reads as one story across requests; otherwise the request's own id.
   */
  correlationId?: string;
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
  const correlationId = request.correlationId ?? request.requestId;
  // Every event names its cause: the event a reaction answers (its position), else the request that wrote it.
  const causationId = request.causationId ?? request.requestId;
  return {
    ...(correlationId ? { correlationId } : {}),
    ...(request.requestId ? { requestId: request.requestId } : {}),
    ...(request.clientRequestId ? { clientRequestId: request.clientRequestId } : {}),
    ...(causationId ? { causationId } : {}),
    actor: request.actor,
    ...(request.clientAddress ? { ip: request.clientAddress } : {}),
    ...(request.userAgent ? { userAgent: request.userAgent } : {}),
    ...(request.deviceId ? { deviceId: request.deviceId } : {}),
    ...(request.attemptBucket ? { attemptBucket: request.attemptBucket } : {}),
  };
}

/** The request as part of a login flow: its events carry the flow's id as their correlation id. */
export function inLoginFlow(request: RequestFacts, flowId: string): RequestFacts {
  return { ...request, correlationId: flowId };
}

export function actingAs(request: RequestFacts, actor: string): RequestFacts {
  return { ...request, actor };
}

/** The service acting on its own (a lock, an expired lock's end), caused by an event or by nothing. */
export function systemRequest(causation?: { position: number; metadata: EventMetadata }): RequestFacts {
  return {
    clientAddress: '',
    userAgent: '',
    // A reaction belongs to the story of what caused it, not to a request of its own; an act of the service's own
    // (an expired lock's end) gets an id of its own, so that it too has a cause on record.
    requestId: causation ? '' : `system-${newId()}`,
    ...(causation?.metadata.correlationId ? { correlationId: causation.metadata.correlationId } : {}),
    actor: 'system',
    ...(causation ? { causationId: String(causation.position) } : {}),
  };
}
