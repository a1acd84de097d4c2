// The auditor's view: one row per event of the whole log, with every secret-bearing field removed.
import type { Queryable } from '../db/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { liveSchema, sql, type Projector, type SqlStatement } from './projector.js';

// Events never carry secrets in clear, but ciphertexts, hashes and key material have no business in an audit export.
const withheldFields = /secret|ciphertext|hash|token|password|publicKey|codes?$|challenge/i;

export function auditSummary(data: Record<string, unknown>): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (withheldFields.test(key)) continue;
    summary[key] = value !== null && typeof value === 'object' && !Array.isArray(value) ? auditSummary(value as Record<string, unknown>) : value;
  }
  return summary;
}

/** The account an event concerns: the stream's own id for user and authenticator streams, else what the event names. */
export function subjectUserId(event: RecordedEvent): string | null {
  const userId = (event.data as { userId?: unknown }).userId;
  if (typeof userId === 'string') return userId;
  const match = /^(?:user|authenticators)-(.+)$/.exec(event.streamId);
  return match ? match[1]! : null;
}

export function createAuditProjector(handles: readonly string[]): Projector {
  return {
    name: 'audit',
    version: 1,
    handles,
    tables: [{ name: 'audit_events', orderBy: 'position' }],
    ddl: (s) => `
      create table ${s}.audit_events (
        position       bigint primary key,
        stream_id      text not null,
        version        integer not null,
        type           text not null,
        user_id        text,
        actor          text,
        correlation_id text,
        ip             text,
        user_agent     text,
        summary        jsonb not null,
        hash           text not null,
        recorded_at    timestamptz not null
      );
      create index on ${s}.audit_events (user_id, position);
      create index on ${s}.audit_events (type, position);
      create index on ${s}.audit_events (recorded_at);`,
    project(event, s): SqlStatement[] {
      return [
        sql(
          `insert into ${s}.audit_events (position, stream_id, version, type, user_id, actor, correlation_id, ip, user_agent, summary, hash, recorded_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11, $12)`,
          event.position, event.streamId, event.version, event.type, subjectUserId(event), event.metadata.actor ?? null,
          event.metadata.correlationId ?? null, event.metadata.ip ?? null, event.metadata.userAgent ?? null,
          JSON.stringify(auditSummary(event.data)), event.hash, event.recordedAt.toISOString(),
        ),
      ];
    },
    // One row per event either way: a rebuild inserts a whole batch in one statement.
    projectBatch(events, s): SqlStatement[] {
      const rows = events.map((event) => ({
        position: event.position, stream_id: event.streamId, version: event.version, type: event.type, user_id: subjectUserId(event),
        actor: event.metadata.actor ?? null, correlation_id: event.metadata.correlationId ?? null, ip: event.metadata.ip ?? null,
        user_agent: event.metadata.userAgent ?? null, summary: auditSummary(event.data), hash: event.hash, recorded_at: event.recordedAt.toISOString(),
      }));
      return [
        sql(
          `insert into ${s}.audit_events (position, stream_id, version, type, user_id, actor, correlation_id, ip, user_agent, summary, hash, recorded_at)
           select position, stream_id, version, type, user_id, actor, correlation_id, ip, user_agent, summary, hash, recorded_at
             from jsonb_to_recordset($1::text::jsonb) as r(position bigint, stream_id text, version integer, type text, user_id text, actor text,
                  correlation_id text, ip text, user_agent text, summary jsonb, hash text, recorded_at timestamptz)
            order by position`,
          JSON.stringify(rows),
        ),
      ];
    },
  };
}

export interface AuditFilter {
  userId?: string;
  types?: string[];
  from?: Date;
  to?: Date;
  correlationId?: string;
}

export interface AuditRow {
  position: number;
  stream_id: string;
  version: number;
  type: string;
  user_id: string | null;
  actor: string | null;
  correlation_id: string | null;
  ip: string | null;
  user_agent: string | null;
  summary: Record<string, unknown>;
  hash: string;
  recorded_at: Date;
  [key: string]: unknown;
}

/** The latest `limit` events matching the filter, newest first, before a position (keyset: one index range scan). */
export async function findLatestAuditEvents(q: Queryable, filter: AuditFilter, before: number | null, limit: number): Promise<AuditRow[]> {
  return q.query<AuditRow>(
    `select * from ${liveSchema}.audit_events
      where ($1::bigint is null or position < $1)
        and ($2::text is null or user_id = $2)
        and ($3::text[] is null or type = any($3))
        and ($4::timestamptz is null or recorded_at >= $4)
        and ($5::timestamptz is null or recorded_at < $5)
        and ($6::text is null or correlation_id = $6)
      order by position desc limit $7`,
    [before, filter.userId ?? null, filter.types ?? null, filter.from?.toISOString() ?? null, filter.to?.toISOString() ?? null, filter.correlationId ?? null, limit],
  );
}

/** The auditor's filtered, position-ordered page of the history (keyset pagination: `after` is a position). */
export async function findAuditEvents(q: Queryable, filter: AuditFilter, after: number, limit: number): Promise<AuditRow[]> {
  return q.query<AuditRow>(
    `select * from ${liveSchema}.audit_events
      where position > $1
        and ($2::text is null or user_id = $2)
        and ($3::text[] is null or type = any($3))
        and ($4::timestamptz is null or recorded_at >= $4)
        and ($5::timestamptz is null or recorded_at < $5)
        and ($6::text is null or correlation_id = $6)
      order by position limit $7`,
    [after, filter.userId ?? null, filter.types ?? null, filter.from?.toISOString() ?? null, filter.to?.toISOString() ?? null, filter.correlationId ?? null, limit],
  );
}
