// Login attempts: the pending ones are looked up by their token's hash on every request that carries one.
import type { Queryable } from '../db/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { liveSchema, sql, type Projector, type SqlStatement } from './projector.js';

const endStatus: Record<string, string> = {
  PasswordRejected: 'rejected', LoginCompleted: 'completed', LoginExpired: 'expired', LoginAbandoned: 'abandoned',
};

export const loginFlowsProjector: Projector = {
  name: 'login_flows',
  version: 1,
  handles: ['LoginStarted', 'MfaRequired', 'MfaFailed', ...Object.keys(endStatus)],
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
    create index on ${s}.login_flows (token_hash) where status = 'mfa_pending'`,
  project(event: RecordedEvent, s: string): SqlStatement[] {
    const d = event.data as Record<string, unknown>;
    switch (event.type) {
      case 'LoginStarted':
        return [sql(`insert into ${s}.login_flows (flow_id, user_id, method, status, started_at) values ($1, $2, $3, 'started', $4)`, d.flowId, d.userId, d.method, d.at)];
      case 'MfaRequired':
        return [sql(`update ${s}.login_flows set status = 'mfa_pending', token_hash = $2, types = $3, expires_at = $4 where flow_id = $1`, d.flowId, d.tokenHash, d.types, d.expiresAt)];
      case 'MfaFailed':
        return [sql(`update ${s}.login_flows set failures = failures + 1 where flow_id = $1`, d.flowId)];
      default:
        return [sql(`update ${s}.login_flows set status = $2, ended_at = $3 where flow_id = $1`, d.flowId, endStatus[event.type], d.at)];
    }
  },
};

export interface PendingFlowRow {
  flow_id: string;
  user_id: string;
  types: string[];
  expires_at: Date;
  [key: string]: unknown;
}

export async function findPendingFlowByTokenHash(q: Queryable, tokenHash: string): Promise<PendingFlowRow | undefined> {
  const [row] = await q.query<PendingFlowRow>(
    `select flow_id, user_id, types, expires_at from ${liveSchema}.login_flows where token_hash = $1 and status = 'mfa_pending'`,
    [tokenHash],
  );
  return row;
}
