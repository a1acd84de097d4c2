// The fast path that seeds a log for the benchmarks (shared by the audit and analytics scenarios): events generated
// and chained by the project's own hashing (hash version 2, positions drawn up front), written by COPY in chunks of
// 100,000, one transaction per chunk (each its own transaction id, as separate commits would have), plus whatever rows
// of its own a scenario writes beside each chunk (the audit projection's, for instance), then the stream heads and the
// position sequence. Nothing goes through the API, so a million events take seconds, not hours.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import { currentHashVersion, eventHash, genesisHash } from '../src/eventstore/hashChain.js';
import type { EventMetadata, NewEvent, RecordedEvent } from '../src/eventstore/index.js';

export const copyText = (v: string | number | null): string =>
  v === null ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');

/** Event i of a seeded log: its stream, content, metadata and time (its version comes from the stream's head). */
export type SeedEvent = (i: number, nextVersion: (streamId: string) => number) => { streamId: string; event: NewEvent; metadata: EventMetadata; recordedAt: Date };

export interface CopySide {
  /** `copy <table> (<columns>) from stdin` target, e.g. `proj.audit_events (position, …)`. */
  target: string;
  /** The row for one recorded event, or null for none. */
  row(event: RecordedEvent): Array<string | number | null> | null;
}

export interface LogSeeder {
  /** Appends events until the log holds `count` (events seeded before are kept). */
  seedTo(count: number): Promise<void>;
  readonly seeded: number;
}

export function createLogSeeder(raw: postgres.Sql, make: SeedEvent, sides: readonly CopySide[] = [], chunk = 100_000): LogSeeder {
  const heads = new Map<string, { version: number; hash: string }>();
  let seeded = 0;
  return {
    get seeded() { return seeded; },
    async seedTo(count) {
      while (seeded < count) {
        const from = seeded;
        const to = Math.min(count, from + chunk);
        const events: string[] = [];
        const sideRows: string[][] = sides.map(() => []);
        for (let i = from; i < to; i++) {
          const { streamId, event, metadata, recordedAt } = make(i, (id) => (heads.get(id)?.version ?? 0) + 1);
          const head = heads.get(streamId) ?? { version: 0, hash: genesisHash };
          const position = i + 1;
          const version = head.version + 1;
          const hash = eventHash({ prevHash: head.hash, streamId, version, type: event.type, data: event.data, metadata, recordedAt, position, hashVersion: currentHashVersion });
          events.push([position, streamId, version, event.type, JSON.stringify(event.data), JSON.stringify(metadata), recordedAt.toISOString(), head.hash, hash, currentHashVersion].map(copyText).join('\t'));
          const recorded: RecordedEvent = { position, txId: '0', streamId, version, type: event.type, data: event.data, metadata, recordedAt, prevHash: head.hash, hash, hashVersion: currentHashVersion };
          sides.forEach((side, s) => {
            const row = side.row(recorded);
            if (row) sideRows[s]!.push(row.map(copyText).join('\t'));
          });
          heads.set(streamId, { version, hash });
        }
        await raw.begin(async (tx) => {
          await pipeline(Readable.from(events.map((l) => `${l}\n`)),
            await tx.unsafe(`copy events (position, stream_id, version, type, data, metadata, recorded_at, prev_hash, hash, hash_version) from stdin`).writable());
          for (const [s, side] of sides.entries()) {
            await pipeline(Readable.from(sideRows[s]!.map((l) => `${l}\n`)), await tx.unsafe(`copy ${side.target} from stdin`).writable());
          }
        });
        seeded = to;
      }
      await raw.unsafe(`insert into streams (stream_id, version, head_hash) select stream_id, version, hash from jsonb_to_recordset($1::text::jsonb) as h(stream_id text, version int, hash text)
                        on conflict (stream_id) do update set version = excluded.version, head_hash = excluded.head_hash`,
      [JSON.stringify([...heads].map(([stream_id, h]) => ({ stream_id, version: h.version, hash: h.hash })))]);
      await raw.unsafe(`select setval(pg_get_serial_sequence('events', 'position'), (select max(position) from events))`);
    },
  };
}
