// Proves the log was not altered: recomputes every hash and checks versions and stream heads.
import type { Queryable } from '../db/index.js';
import { eventHash, genesisHash } from './hashChain.js';
import { eventColumns, toRecordedEvent } from './eventStore.js';

export type ChainBreakReason = 'HASH_MISMATCH' | 'PREV_HASH_MISMATCH' | 'VERSION_GAP' | 'HEAD_MISMATCH';

export type ChainVerification =
  | { ok: true; eventsChecked: number; streamsChecked: number }
  | { ok: false; eventsChecked: number; position: number; streamId: string; version: number; reason: ChainBreakReason };

interface Break { position: number; streamId: string; version: number; reason: ChainBreakReason }

/** Walks every stream in order; returns the first broken position of the whole log (the lowest), or ok. */
export async function verifyChain(q: Queryable, options: { batchSize?: number } = {}): Promise<ChainVerification> {
  const batchSize = options.batchSize ?? 5000;
  const breaks: Break[] = [];
  const heads = new Map<string, { version: number; hash: string; position: number }>();
  const brokenStreams = new Set<string>();
  let cursor: { streamId: string; version: number } = { streamId: '', version: 0 };
  let eventsChecked = 0;
  let current: { streamId: string; version: number; hash: string; position: number } | undefined;
  for (;;) {
    const rows = await q.query(
      `select ${eventColumns}
         from events where (stream_id, version) > ($1, $2) order by stream_id, version limit $3`,
      [cursor.streamId, cursor.version, batchSize],
    );
    for (const row of rows) {
      const event = toRecordedEvent(row as never);
      eventsChecked++;
      cursor = { streamId: event.streamId, version: event.version };
      const previous = current?.streamId === event.streamId ? current : undefined;
      if (previous === undefined && current) heads.set(current.streamId, current);
      current = { streamId: event.streamId, version: event.version, hash: event.hash, position: event.position };
      if (brokenStreams.has(event.streamId)) continue;
      const expectedVersion = (previous?.version ?? 0) + 1;
      const expectedPrev = previous?.hash ?? genesisHash;
      let reason: ChainBreakReason | undefined;
      if (event.version !== expectedVersion) reason = 'VERSION_GAP';
      else if (event.prevHash !== expectedPrev) reason = 'PREV_HASH_MISMATCH';
      else if (eventHash({ ...event }) !== event.hash) reason = 'HASH_MISMATCH';
      if (reason) {
        brokenStreams.add(event.streamId);
        breaks.push({ position: event.position, streamId: event.streamId, version: event.version, reason });
      }
    }
    if (rows.length < batchSize) break;
  }
  if (current) heads.set(current.streamId, current);
  // A deleted tail leaves no gap inside the stream; the recorded head says how far the stream went.
  const recordedHeads = await q.query<{ stream_id: string; version: number; head_hash: string }>(`select stream_id, version, head_hash from streams`);
  for (const head of recordedHeads) {
    if (brokenStreams.has(head.stream_id)) continue;
    const seen = heads.get(head.stream_id);
    if (!seen || seen.version !== head.version || seen.hash !== head.head_hash) {
      breaks.push({ position: seen?.position ?? 0, streamId: head.stream_id, version: seen?.version ?? 0, reason: 'HEAD_MISMATCH' });
    }
  }
  if (breaks.length === 0) return { ok: true, eventsChecked, streamsChecked: recordedHeads.length };
  const first = breaks.reduce((a, b) => (b.position < a.position ? b : a));
  return { ok: false, eventsChecked, ...first };
}
