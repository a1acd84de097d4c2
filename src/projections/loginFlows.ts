// Login attempts: the pending ones are looked up by their token's hash on every request that carries one.
import type { Queryable } from '../db/index.js';
import type { LoginEvent } from '../domain/login/events.js';
import { BatchFold, type Column } from './batch.js';
import { liveSchema, sql, type Handled, type Projector, type Recorded, type SqlStatement } from './projector.js';

/** The events that end a flow, and the status each leaves. */
const endStatus = {
  PasswordRejected: 'rejected', LoginCompleted: 'completed', LoginExpired: 'expired', LoginAbandoned: 'abandoned',
} as const;
const handles = ['LoginStarted', 'MfaRequired', 'MfaFailed', 'PasswordRejected', 'LoginCompleted', 'LoginExpired', 'LoginAbandoned'] as const;
type LoginFlowEvent = Handled<LoginEvent, typeof handles>;

export const loginFlowsProjector: Projector<LoginFlowEvent> = {
  name: 'login_flows',
  version: 2,
  handles,
  tables: [{ name: 'login_flows', orderBy: 'flow_id' }],
  ddl: (s) => `
    create table ${s}.login_flows (
      flow_id     text primary key,
      user_id     text,
      method      text not null,
      status      text not null,
      token_hash  text,
      types       text[] not null default '{}',
      failures    integer not null default 0,
      expires_at  timestamptz,
      started_at  timestamptz not null,
      ended_at    timestamptz
    );
    create index on ${s}.login_flows (token_hash) where status = 'mfa_pending';
    create index on ${s}.login_flows (user_id) where status = 'mfa_pending'`,
  project(event: Recorded<LoginFlowEvent>, s: string): SqlStatement[] {
    switch (event.type) {
      case 'LoginStarted': {
        const d = event.data;
        return [sql(`insert into ${s}.login_flows (flow_id, user_id, method, status, started_at) values ($1, $2, $3, 'started', $4)`, d.flowId, d.userId, d.method, d.at)];
      }
      case 'MfaRequired': {
        const d = event.data;
        return [sql(`update ${s}.login_flows set status = 'mfa_pending', token_hash = $2, types = $3, expires_at = $4 where flow_id = $1`, d.flowId, d.tokenHash, d.types, d.expiresAt)];
      }
      case 'MfaFailed':
        return [sql(`update ${s}.login_flows set failures = failures + 1 where flow_id = $1`, event.data.flowId)];
      default:
        return [sql(`update ${s}.login_flows set status = $2, ended_at = $3 where flow_id = $1`, event.data.flowId, endStatus[event.type], event.data.at)];
    }
  },
  projectBatch(events: readonly Recorded<LoginFlowEvent>[], s: string): SqlStatement[] {
    const fold = new BatchFold<LoginFlowDraft>();
    for (const event of events) {
      const flowId = event.data.flowId;
      const set = (values: Partial<LoginFlowDraft>) => fold.change(flowId, (row) => { Object.assign(row, values); }, (p) => { Object.assign(p.set, values); });
      switch (event.type) {
        case 'LoginStarted':
          fold.create(flowId, {
            flow_id: flowId, user_id: event.data.userId ?? null, method: event.data.method, status: 'started', token_hash: null,
            types: [], failures: 0, expires_at: null, started_at: event.data.at, ended_at: null,
          });
          break;
        case 'MfaRequired':
          set({ status: 'mfa_pending', token_hash: event.data.tokenHash, types: event.data.types, expires_at: event.data.expiresAt });
          break;
        case 'MfaFailed':
          // Failures only add up: the count is the whole change.
          fold.change(flowId, (row) => { row.failures += 1; }, (p) => { p.relative.failures_added = ((p.relative.failures_added as number | undefined) ?? 0) + 1; });
          break;
        default:
          set({ status: endStatus[event.type], ended_at: event.data.at });
      }
    }
    return fold.statements(`${s}.login_flows`, loginFlowColumns[0]!, loginFlowColumns, {
      targets: ['failures'],
      columns: [{ name: 'failures_added', type: 'integer' }],
      assignments: ['failures = t.failures + coalesce(r.failures_added, 0)'],
    });
  },
};

interface LoginFlowDraft extends Record<string, unknown> {
  flow_id: string;
  user_id: string | null;
  method: string;
  status: string;
  token_hash: string | null;
  types: string[];
  failures: number;
  expires_at: string | null;
  started_at: string;
  ended_at: string | null;
}

const loginFlowColumns: Column[] = [
  { name: 'flow_id', type: 'text' }, { name: 'user_id', type: 'text' }, { name: 'method', type: 'text' }, { name: 'status', type: 'text' },
  { name: 'token_hash', type: 'text' }, { name: 'types', type: 'text[]' }, { name: 'failures', type: 'integer' },
  { name: 'expires_at', type: 'timestamptz' }, { name: 'started_at', type: 'timestamptz' }, { name: 'ended_at', type: 'timestamptz' },
];

export interface PendingFlowRow {
  flow_id: string;
  user_id: string;
  types: string[];
  expires_at: Date;
  [key: string]: unknown;
}

/** The flows of a user still waiting for their MFA step. */
export async function findPendingFlowIdsOfUser(q: Queryable, userId: string): Promise<string[]> {
  const rows = await q.query<{ flow_id: string }>(`select flow_id from ${liveSchema}.login_flows where user_id = $1 and status = 'mfa_pending'`, [userId]);
  return rows.map((r) => r.flow_id);
}
