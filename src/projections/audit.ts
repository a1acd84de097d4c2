// The auditor's view: one row per event of the whole log, with every secret-bearing field removed. Personal data is
// held as the envelopes the event stored (sealed under the person's key; the vault opens them for the auditor), and the
// address as its keyed pseudonym (`ip_hash`, the filter). Once a person is deleted or erased, their rows lose the
// pseudonym and the envelopes (which no key opens any more) are cleared as well.
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

/** The summary with each personal field as its stored envelope (or null), never in clear. */
function sealedSummary(event: RecordedEvent): Record<string, unknown> {
  const summary = auditSummary(event.data);
  for (const field of Object.keys(summary)) {
    if (event.personal && field in event.personal.data) summary[field] = event.personal.data[field];
  }
  return summary;
}

function auditRow(event: RecordedEvent) {
  return {
    position: event.position, stream_id: event.streamId, version: event.version, type: event.type, user_id: subjectUserId(event),
    actor: event.metadata.actor ?? null, correlation_id: event.metadata.correlationId ?? null,
    ip: event.personal?.metadata.ip ?? null, user_agent: event.personal?.metadata.userAgent ?? null, ip_hash: event.metadata.ipHash ?? null,
    summary: sealedSummary(event), hash: event.hash, recorded_at: event.recordedAt.toISOString(),
  };
}

const erasureTypes = new Set(['UserDeleted', 'UserErased']);

/** After a person's deletion or erasure: nothing of them stays in their rows but ids, types and times. */
function forget(s: string, event: RecordedEvent): SqlStatement[] {
  if (!erasureTypes.has(event.type)) return [];
  return [sql(`update ${s}.audit_events set ip = null, user_agent = null, ip_hash = null where user_id = $1 and position <= $2`, subjectUserId(event), event.position)];
}

export function createAuditProjector(handles: readonly string[]): Projector {
  return {
    name: 'audit',
    version: 2,
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
        ip_hash        text,
        summary        jsonb not null,
        hash           text not null,
        recorded_at    timestamptz not null
      );
      create index on ${s}.audit_events (user_id, position);
      create index on ${s}.audit_events (type, position);
      create index on ${s}.audit_events (recorded_at);
      create index on ${s}.audit_events (ip_hash) where ip_hash is not null;`,
    project(event, s): SqlStatement[] {
      const r = auditRow(event);
      return [
        sql(
          `insert into ${s}.audit_events (position, stream_id, version, type, user_id, actor, correlation_id, ip, user_agent, ip_hash, summary, hash, recorded_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb, $12, $13)`,
          r.position, r.stream_id, r.version, r.type, r.user_id, r.actor, r.correlation_id, r.ip, r.user_agent, r.ip_hash,
          JSON.stringify(r.summary), r.hash, r.recorded_at,
        ),
        ...forget(s, event),
      ];
    },
    // One row per event either way: a rebuild inserts a whole batch in one statement.
    projectBatch(events, s): SqlStatement[] {
      const rows = events.map(auditRow);
      return [
        sql(
          `insert into ${s}.audit_events (position, stream_id, version, type, user_id, actor, correlation_id, ip, user_agent, ip_hash, summary, hash, recorded_at)
           select position, stream_id, version, type, user_id, actor, correlation_id, ip, user_agent, ip_hash, summary, hash, recorded_at
             from jsonb_to_recordset($1::text::jsonb) as r(position bigint, stream_id text, version integer, type text, user_id text, actor text,
                  correlation_id text, ip text, user_agent text, ip_hash text, summary jsonb, hash text, recorded_at timestamptz)
            order by position`,
          JSON.stringify(rows),
        ),
        ...events.flatMap((event) => forget(s, event)),
      ];
    },
  };
}

/** The stable filter set of auditEvents (issue 14 item 8); every field optional, all of them combined with AND. */
export interface AuditFilter {
  userId?: string;
  actor?: string;
  types?: string[];
  /** The keyed pseudonym of the client address the event was recorded from (PersonalDataHashes.address). */
  addressHash?: string;
  from?: Date;
  to?: Date;
  correlationId?: string;
  outcome?: 'SUCCESS' | 'FAILURE';
}

/** Events that record a refusal or a failure: a rejected code, a suspected clone, a lock, an undeliverable notice. */
export function isFailureEventType(type: string): boolean {
  return /(Rejected|Suspected|Locked|DeadLettered|Failed)$/.test(type);
}

/**
 * The WHERE clause of a filter, with only the conditions it sets: each query then gets a plan for exactly its filter
 * (one user's events are an index range scan on (user_id, position), whatever the size of the log).
 */
function auditWhere(filter: AuditFilter, params: unknown[], knownTypes: readonly string[]): string[] {
  const where: string[] = [];
  const add = (condition: (p: string) => string, value: unknown): void => {
    params.push(value);
    where.push(condition(`$${params.length}`));
  };
  if (filter.userId !== undefined) add((p) => `user_id = ${p}`, filter.userId);
  if (filter.actor !== undefined) add((p) => `actor = ${p}`, filter.actor);
  if (filter.types !== undefined) add((p) => `type = any(${p}::text[])`, filter.types);
  if (filter.addressHash !== undefined) add((p) => `ip_hash = ${p}`, filter.addressHash);
  if (filter.from !== undefined) add((p) => `recorded_at >= ${p}`, filter.from.toISOString());
  if (filter.to !== undefined) add((p) => `recorded_at < ${p}`, filter.to.toISOString());
  if (filter.correlationId !== undefined) add((p) => `correlation_id = ${p}`, filter.correlationId);
  if (filter.outcome !== undefined) {
    const failures = knownTypes.filter(isFailureEventType);
    add((p) => `type ${filter.outcome === 'FAILURE' ? '=' : '<>'} ${filter.outcome === 'FAILURE' ? `any(${p}::text[])` : `all(${p}::text[])`}`, failures);
  }
  return where;
}

/**
 * A page of the filtered history by position (keyset): forwards after a position, or backwards before one (the latest
 * first). Returns the rows in position order and whether more lie beyond the page in its direction.
 */
export async function findAuditPage(
  q: Queryable, filter: AuditFilter, page: { after?: number; before?: number; limit: number; backwards: boolean }, knownTypes: readonly string[] = [],
): Promise<{ rows: AuditRow[]; more: boolean }> {
  const params: unknown[] = [];
  const where = auditWhere(filter, params, knownTypes);
  if (page.after !== undefined) where.push(`position > $${params.push(page.after)}`);
  if (page.before !== undefined) where.push(`position < $${params.push(page.before)}`);
  const rows = await q.query<AuditRow>(
    `select * from ${liveSchema}.audit_events ${where.length ? `where ${where.join(' and ')}` : ''}
      order by position ${page.backwards ? 'desc' : 'asc'} limit $${params.push(page.limit + 1)}`,
    params,
  );
  const more = rows.length > page.limit;
  const kept = rows.slice(0, page.limit);
  return { rows: page.backwards ? kept.reverse() : kept, more };
}

/** The latest `limit` events matching the filter, newest first, before a position. */
export async function findLatestAuditEvents(q: Queryable, filter: AuditFilter, before: number | null, limit: number): Promise<AuditRow[]> {
  const { rows } = await findAuditPage(q, filter, { before: before ?? undefined, limit, backwards: true });
  return rows.reverse();
}

/** The auditor's filtered, position-ordered page of the history (keyset pagination: `after` is a position). */
export async function findAuditEvents(q: Queryable, filter: AuditFilter, after: number, limit: number): Promise<AuditRow[]> {
  return (await findAuditPage(q, filter, { after, limit, backwards: false })).rows;
}

export interface AuditRow {
  position: number;
  stream_id: string;
  version: number;
  type: string;
  user_id: string | null;
  actor: string | null;
  correlation_id: string | null;
  /** Sealed: open with the vault (application/auditLog.ts openAuditRows). */
  ip: string | null;
  user_agent: string | null;
  ip_hash: string | null;
  summary: Record<string, unknown>;
  hash: string;
  recorded_at: Date;
  [key: string]: unknown;
}

