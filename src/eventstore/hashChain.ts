import { canonicalJson, sha256Hex } from './canonical.js';
import type { EventMetadata } from './types.js';

export const genesisHash = '0'.repeat(64);

/**
 * How an event's hash is computed, recorded per event so every event verifies as it was written:
 * 1: place in its stream, content and the previous hash of the stream;
 * 2: the same and its global position (issue 14), so an event cannot be moved in the log without breaking it;
 * 3: computed as version 2, over an event whose personal data is sealed (issue 14 item 0): written by every append since,
 *    and by the conversion (application/personalDataConversion.ts) for the events it sealed, re-chained after it.
 */
export type HashVersion = 1 | 2 | 3;
export const currentHashVersion: HashVersion = 3;

/** Each event's hash covers its place, content and the previous hash of its stream: editing, deleting or reordering breaks the chain. */
export function eventHash(input: {
  prevHash: string;
  streamId: string;
  version: number;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recordedAt: Date;
  position: number;
  hashVersion: number;
}): string {
  const body = canonicalJson({
    streamId: input.streamId,
    version: input.version,
    type: input.type,
    data: input.data,
    metadata: input.metadata,
    recordedAt: input.recordedAt.toISOString(),
    ...(input.hashVersion >= 2 ? { position: input.position, hashVersion: input.hashVersion } : {}),
  });
  return sha256Hex(`${input.prevHash}\n${body}`);
}
