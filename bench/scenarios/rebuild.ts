// Rebuilding every projection from a 100,000-event log, against a raw SELECT of the same rows (all columns).
// The log is seeded in bulk from a seeded realistic history, with valid hash chains; the two measurements alternate.
import postgres from 'postgres';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { eventHash, genesisHash } from '../../src/eventstore/hashChain.js';
import { randomHistory } from '../../test/fixtures/randomHistory.js';
import { median, type Scenario } from '../types.js';

const eventCount = Number(process.env.BENCH_REBUILD_EVENTS ?? 100_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

interface SeedRow { stream_id: string; version: number; type: string; data: unknown; metadata: unknown; recorded_at: string; prev_hash: string; hash: string }

function seedRows(): SeedRow[] {
  const heads = new Map<string, string>();
  const rows: SeedRow[] = [];
  for (const command of randomHistory({ seed: 100_000, minEvents: eventCount, users: 5000 })) {
    for (const append of command.appends) {
      append.events.forEach((event, i) => {
        if (rows.length >= eventCount) return;
        const version = append.expectedVersion + i + 1;
        const prevHash = heads.get(append.streamId) ?? genesisHash;
        const hash = eventHash({ prevHash, streamId: append.streamId, version, type: event.type, data: event.data, metadata: command.metadata, recordedAt: command.now, position: 0, hashVersion: 1 });
        heads.set(append.streamId, hash);
        rows.push({ stream_id: append.streamId, version, type: event.type, data: event.data, metadata: command.metadata, recorded_at: command.now.toISOString(), prev_hash: prevHash, hash });
      });
    }
  }
  return rows;
}

const scenario: Scenario = {
  name: 'rebuild',
  description: `rebuild all projections over ${eventCount.toLocaleString('en-US')} events vs a raw SELECT of those rows (${rounds} rounds each)`,
  ratios: [{ name: 'rebuild ÷ raw select', numerator: 'rebuild_events_per_s', denominator: 'raw_select_rows_per_s', floor: 0.1, paired: true }],
  async run(ctx) {
    const app = await createApp({ config: loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent' }), db: ctx.openDb({ max: 4 }) });
    const raw = postgres(ctx.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const seedStarted = Date.now();
      const rows = seedRows();
      for (let i = 0; i < rows.length; i += 5000) {
        await raw.unsafe(
          `insert into events (stream_id, version, type, data, metadata, recorded_at, prev_hash, hash)
           select stream_id, version, type, data, metadata, recorded_at, prev_hash, hash
             from jsonb_to_recordset($1::text::jsonb) as r(stream_id text, version int, type text, data jsonb, metadata jsonb, recorded_at timestamptz, prev_hash text, hash text)`,
          [JSON.stringify(rows.slice(i, i + 5000))],
        );
      }
      await raw.unsafe(
        `insert into streams (stream_id, version, head_hash)
         select distinct on (stream_id) stream_id, version, hash from events order by stream_id, version desc`,
      );
      await raw.unsafe(`vacuum analyze events`);
      ctx.log(`seeded ${rows.length} events in ${Date.now() - seedStarted} ms`);

      const selectRates: number[] = [];
      const rebuildRates: number[] = [];
      for (let round = 1; round <= rounds; round++) {
        let started = process.hrtime.bigint();
        const selected = await raw.unsafe(`select * from events order by position`);
        selectRates.push(selected.length / (Number(process.hrtime.bigint() - started) / 1e9));
        started = process.hrtime.bigint();
        const result = await app.projections.rebuild();
        rebuildRates.push(result.events / (Number(process.hrtime.bigint() - started) / 1e9));
        if (result.events !== rows.length || selected.length !== rows.length) throw new Error(`expected ${rows.length} events, rebuilt ${result.events}, selected ${selected.length}`);
        ctx.log(`round ${round}: select ${Math.round(selectRates.at(-1)!)} rows/s, rebuild ${Math.round(rebuildRates.at(-1)!)} events/s`);
      }
      return [
        { metric: 'rebuild_events_per_s', value: median(rebuildRates), unit: 'events/s', samples: rebuildRates },
        { metric: 'raw_select_rows_per_s', value: median(selectRates), unit: 'rows/s', samples: selectRates },
        { metric: 'events', value: rows.length, unit: 'events' },
      ];
    } finally {
      await raw.end();
    }
  },
};

export default scenario;
