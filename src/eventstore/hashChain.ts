import { canonicalJson, sha256Hex } from './canonical.js';
import type { EventMetadata } from './types.js';

export const genesisHash = '0'.repeat(64);

/** Each event's hash covers its place, content and the previous hash of its stream: editing, deleting or reordering breaks the chain. */
export function eventHash(input: {
  prevHash: string;
  streamId: string;
  version: number;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recordedAt: Date;
}): string {
  const body = canonicalJson({
    streamId: input.streamId,
    version: input.version,
    type: input.type,
    data: input.data,
    metadata: input.metadata,
    recordedAt: input.recordedAt.toISOString(),
  });
  return sha256Hex(`${input.prevHash}\n${body}`);
}
