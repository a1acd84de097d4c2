import type { EventMetadata } from '../../eventstore/index.js';

/** What a handler knows of the request behind a command: for events' metadata and for the session record. */
export interface RequestInfo {
  ip: string;
  userAgent: string;
  metadata: EventMetadata;
}
