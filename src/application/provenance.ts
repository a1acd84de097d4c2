// Session provenance for auditors (issue 14 item 6): how a session came to be and what happened to it, as events.
// The login flow that created it (LoginCompleted names the session), every event its requests wrote for the same user
// (factor attempts, failures included, share the request's correlation id with the flow's own events), then the
// session's stream: start, activity, reauthentications (with their factor attempts), token rotations and its end.
import { DomainError } from '../domain/shared/errors.js';
import { streams } from '../domain/shared/streams.js';
import { liveSchema } from '../projections/projector.js';
import type { AuditRow } from '../projections/audit.js';
import type { Deps } from './deps.js';

export async function sessionProvenance(deps: Pick<Deps, 'db'>, sessionId: string): Promise<AuditRow[]> {
  const own = await deps.db.query<AuditRow>(`select * from ${liveSchema}.audit_events where stream_id = $1 order by position`, [streams.session(sessionId)]);
  const userId = own[0]?.user_id;
  if (!userId) throw new DomainError('NOT_FOUND', 'no such session');
  const [completed] = await deps.db.query<{ stream_id: string }>(
    `select stream_id from ${liveSchema}.audit_events where user_id = $1 and type = 'LoginCompleted' and summary->>'sessionId' = $2 limit 1`,
    [userId, sessionId],
  );
  const flow = completed ? await deps.db.query<AuditRow>(`select * from ${liveSchema}.audit_events where stream_id = $1 order by position`, [completed.stream_id]) : [];
  // The requests of the flow, and the session's reauthentications: what else they wrote about this user.
  const correlationIds = [...new Set([...flow, ...own.filter((e) => e.type === 'SessionReauthenticated')].map((e) => e.correlation_id).filter((c): c is string => c !== null))];
  const related = correlationIds.length === 0 ? [] : await deps.db.query<AuditRow>(
    `select * from ${liveSchema}.audit_events where user_id = $1 and correlation_id = any($2::text[]) order by position`, [userId, correlationIds],
  );
  const byPosition = new Map<number, AuditRow>();
  for (const row of [...flow, ...related, ...own]) byPosition.set(Number(row.position), row);
  return [...byPosition.values()].sort((a, b) => Number(a.position) - Number(b.position));
}
