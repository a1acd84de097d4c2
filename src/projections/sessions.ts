// Sessions: looked up by token hash on every authenticated request, listed in `me.sessions`. The address and user
// agent are the envelopes SessionStarted stored (sealed under the user's key; the vault opens them for display).
import type { Queryable } from '../db/index.js';
import { readAheadOf, type ReadAheadRow } from '../eventstore/index.js';
import type { DeviceTrustDeclined, DeviceTrusted } from '../domain/device/events.js';
import type { SessionEvent } from '../domain/session/events.js';
import { standingFrom, standingQuery, type DeviceStanding, type StandingRow } from './accountFailures.js';
import { BatchFold, type Column } from './batch.js';
import { sealedField } from './users.js';
import type { PendingFlowRow } from './loginFlows.js';
import { liveSchema, sql, type Projector, type ReadAheadJoin, type Recorded, type SqlStatement } from './projector.js';

/** A session is asked "trust this device?" (the MFA_TRUST flow) until its device is trusted or the answer is no. */
type SessionsEvent = SessionEvent | DeviceTrusted | DeviceTrustDeclined;

export const sessionsProjector: Projector<SessionsEvent> = {
  name: 'sessions',
  version: 3,
  handles: ['SessionStarted', 'SessionActivityRecorded', 'SessionReauthenticated', 'SessionTokenRotated', 'SessionRevoked', 'SessionExpired', 'DeviceTrusted', 'DeviceTrustDeclined'],
  tables: [{ name: 'sessions', orderBy: 'session_id' }],
  ddl: (s) => `
    create table ${s}.sessions (
      session_id         text primary key,
      user_id            text not null,
      token_hash         text not null,
      aal                integer not null,
      methods            jsonb not null,
      ip                 text,
      user_agent         text,
      device_id          text,
      enroll_only        boolean not null,
      created_at         timestamptz not null,
      last_seen_at       timestamptz not null,
      reauthenticated_at timestamptz,
      ended_at           timestamptz,
      end_reason         text,
      trust_pending      boolean not null default false
    );
    create index on ${s}.sessions (token_hash) where ended_at is null;
    create index on ${s}.sessions (user_id) where ended_at is null;
    create index on ${s}.sessions (user_id, device_id)`,
  project(event: Recorded<SessionsEvent>, s: string): SqlStatement[] {
    switch (event.type) {
      case 'SessionStarted': {
        const d = event.data;
        return [sql(
          `insert into ${s}.sessions (session_id, user_id, token_hash, aal, methods, ip, user_agent, device_id, enroll_only, created_at, last_seen_at, trust_pending)
           values ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8, $9, $10, $10, $11)`,
          d.sessionId, d.userId, d.tokenHash, d.aal, JSON.stringify(d.methods), sealedField(event, 'ip'), sealedField(event, 'userAgent'), d.deviceId, d.enrollOnly, d.at, d.mfaTrustOffered ?? false,
        )];
      }
      case 'SessionActivityRecorded':
        return [sql(`update ${s}.sessions set last_seen_at = $2 where session_id = $1`, event.data.sessionId, event.data.at)];
      case 'SessionReauthenticated': {
        const d = event.data;
        return [sql(
          `update ${s}.sessions set token_hash = $2, aal = $3, reauthenticated_at = $4, last_seen_at = $4,
             methods = methods || jsonb_build_array(jsonb_build_object('method', $5::text, 'at', $6::text)) where session_id = $1`,
          d.sessionId, d.tokenHash, d.aal, d.at, d.method, d.at,
        )];
      }
      case 'SessionTokenRotated':
        return [sql(`update ${s}.sessions set token_hash = $2, aal = $3, enroll_only = false where session_id = $1`, event.data.sessionId, event.data.tokenHash, event.data.aal)];
      case 'SessionRevoked':
      case 'SessionExpired':
        return [sql(`update ${s}.sessions set ended_at = $2, end_reason = $3 where session_id = $1`, event.data.sessionId, event.data.at, event.data.reason)];
      case 'DeviceTrusted':
      case 'DeviceTrustDeclined':
        return [sql(`update ${s}.sessions set trust_pending = false where session_id = $1`, event.data.sessionId)];
    }
  },
  projectBatch(events: readonly Recorded<SessionsEvent>[], s: string): SqlStatement[] {
    const fold = new BatchFold<SessionDraft>();
    for (const event of events) {
      const sessionId = event.data.sessionId;
      const set = (values: Partial<SessionDraft>) => fold.change(sessionId, (row) => { Object.assign(row, values); }, (p) => { Object.assign(p.set, values); });
      switch (event.type) {
        case 'SessionStarted': {
          const d = event.data;
          fold.create(sessionId, {
            session_id: sessionId, user_id: d.userId, token_hash: d.tokenHash, aal: d.aal, methods: d.methods,
            ip: sealedField(event, 'ip'), user_agent: sealedField(event, 'userAgent'), device_id: d.deviceId ?? null, enroll_only: d.enrollOnly,
            created_at: d.at, last_seen_at: d.at, reauthenticated_at: null, ended_at: null, end_reason: null, trust_pending: d.mfaTrustOffered ?? false,
          });
          break;
        }
        case 'SessionActivityRecorded':
          set({ last_seen_at: event.data.at });
          break;
        case 'SessionReauthenticated': {
          const d = event.data;
          set({ token_hash: d.tokenHash, aal: d.aal, reauthenticated_at: d.at, last_seen_at: d.at });
          // Methods only grow: the appended items, in order, are the whole change.
          const method = { method: d.method, at: d.at };
          fold.change(sessionId, (row) => { row.methods = [...row.methods, method]; }, (p) => { p.relative.methods_appended = [...((p.relative.methods_appended as unknown[] | undefined) ?? []), method]; });
          break;
        }
        case 'SessionTokenRotated':
          set({ token_hash: event.data.tokenHash, aal: event.data.aal, enroll_only: false });
          break;
        case 'SessionRevoked':
        case 'SessionExpired':
          set({ ended_at: event.data.at, end_reason: event.data.reason });
          break;
        case 'DeviceTrusted':
        case 'DeviceTrustDeclined':
          set({ trust_pending: false });
          break;
      }
    }
    return fold.statements(`${s}.sessions`, sessionColumns[0]!, sessionColumns, {
      targets: ['methods'],
      columns: [{ name: 'methods_appended', type: 'jsonb' }],
      assignments: ['methods = case when r.methods_appended is null then t.methods else t.methods || r.methods_appended end'],
    });
  },
};

interface SessionDraft extends Record<string, unknown> {
  session_id: string;
  user_id: string;
  token_hash: string;
  aal: number;
  methods: unknown[];
  ip: string | null;
  user_agent: string | null;
  device_id: string | null;
  enroll_only: boolean;
  created_at: string;
  last_seen_at: string;
  reauthenticated_at: string | null;
  ended_at: string | null;
  end_reason: string | null;
  trust_pending: boolean;
}

const sessionColumns: Column[] = [
  { name: 'session_id', type: 'text' }, { name: 'user_id', type: 'text' }, { name: 'token_hash', type: 'text' }, { name: 'aal', type: 'integer' },
  { name: 'methods', type: 'jsonb' }, { name: 'ip', type: 'text' }, { name: 'user_agent', type: 'text' }, { name: 'device_id', type: 'text' },
  { name: 'enroll_only', type: 'boolean' }, { name: 'created_at', type: 'timestamptz' }, { name: 'last_seen_at', type: 'timestamptz' },
  { name: 'reauthenticated_at', type: 'timestamptz' }, { name: 'ended_at', type: 'timestamptz' }, { name: 'end_reason', type: 'text' },
  { name: 'trust_pending', type: 'boolean' },
];

export interface SessionRow {
  session_id: string;
  user_id: string;
  token_hash: string;
  aal: number;
  methods: Array<{ method: string; at: string; type?: string }>;
  ip: string;
  user_agent: string;
  device_id: string | null;
  enroll_only: boolean;
  created_at: Date;
  last_seen_at: Date;
  reauthenticated_at: Date | null;
  trust_pending: boolean;
  [key: string]: unknown;
}

export async function findActiveSessionByTokenHash(q: Queryable, tokenHash: string): Promise<SessionRow | undefined> {
  const [row] = await q.query<SessionRow>(`select * from ${liveSchema}.sessions where token_hash = $1 and ended_at is null`, [tokenHash]);
  return row;
}

export async function listActiveSessions(q: Queryable, userId: string): Promise<SessionRow[]> {
  return q.query<SessionRow>(`select * from ${liveSchema}.sessions where user_id = $1 and ended_at is null order by created_at desc, session_id`, [userId]);
}

export interface SessionWithUserRow extends SessionRow {
  email: string | null;
  /** The user's wrapped data key (null once erased), read in the same statement: opening needs no round trip. */
  data_key: string | null;
  roles: string[];
  user_created_at: Date;
  /** The administrator's deadline for a second factor (requireMfa), if any. */
  mfa_required_by: Date | null;
}

/**
 * The hot path of every authenticated request, in one query: what a token opens — a live session with its (not deleted)
 * user, or else a login waiting for its MFA step (the pending token of login_flows).
 */
export async function findTokenHolder(q: Queryable, tokenHash: string, deviceId?: string, readAhead?: ReadAheadJoin): Promise<{ session?: SessionWithUserRow; flow?: PendingFlowRow; flowStanding?: DeviceStanding; flowReadAhead?: ReadAheadRow }> {
  // A pending login's token is only ever used for its MFA step, which draws an attempt first: the requesting device's
  // standing in the account's budget (deviceAndStanding's read) comes in the same statement, and so does what the
  // caller reads ahead for that step (readAhead: it may use the flow row's f.user_id and f.flow_id, null when the
  // token holds no pending login, and the standing's st.device_known; its params are numbered from $3).
  const rows = await q.query<SessionWithUserRow & { pending_flow_id: string | null; pending_user_id: string; pending_types: string[]; pending_expires_at: Date } & StandingRow  & { ahead_ids?: string[] | null; ahead_positions?: Array<number | string> | null; ahead_stream_id?: string | null }>(
    `select s.*, f.flow_id as pending_flow_id, f.user_id as pending_user_id, f.types as pending_types, f.expires_at as pending_expires_at,
            st.device_known, st.consecutive, st.last_failure_at, st.locked_until${readAhead ? ', ahead.*' : ''}
       from (select 1) as one
       left join lateral (
         select s.*, u.email, u.roles, u.created_at as user_created_at, u.mfa_required_by, k.wrapped_key as data_key
           from ${liveSchema}.sessions s join ${liveSchema}.users u on u.user_id = s.user_id and not u.deleted
           left join personal_data_keys k on k.subject_id = s.user_id
          where s.token_hash = $1 and s.ended_at is null) s on true
       left join lateral (
         select flow_id, user_id, types, expires_at from ${liveSchema}.login_flows where token_hash = $1 and status = 'mfa_pending') f on s.session_id is null
       left join lateral (${standingQuery('f.user_id', '$2')}) st on true${readAhead ? `
       left join lateral (${readAhead.sql}) ahead on true` : ''}`,
    [tokenHash, deviceId ?? null, ...(readAhead?.params ?? [])],
  );
  const [row] = rows;
  if (!row) return {};
  const { pending_flow_id: flowId, pending_user_id: userId, pending_types: types, pending_expires_at: expiresAt, device_known, consecutive, last_failure_at, locked_until, ...session } = row;
  if (session.session_id !== null) return { session: session as SessionWithUserRow };
  if (flowId === null) return {};
  return {
    flow: { flow_id: flowId, user_id: userId, types, expires_at: expiresAt }, flowStanding: standingFrom({ device_known, consecutive, last_failure_at, locked_until }),
    ...(readAhead ? { flowReadAhead: readAheadOf(rows) } : {}),
  };
}
