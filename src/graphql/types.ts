// Object types shared by several areas: users, sessions, flows.
import { flowIds, type Flow } from '../application/authState.js';
import type { SessionRow } from '../projections/sessions.js';
import { listSessionsForDisplay } from '../application/sessions.js';
import { builder } from './builder.js';
import type { SessionView, UserView } from './context.js';
import { AuthenticatorRef, AuthenticatorTypeEnum, listAuthenticators } from './authenticators.js';

export const FlowIdEnum = builder.enumType('FlowId', { values: flowIds });


export const FlowRef = builder.objectRef<Flow>('Flow').implement({
  fields: (t) => ({
    id: t.field({ type: FlowIdEnum, resolve: (f) => f.id }),
    isPending: t.exposeBoolean('isPending'),
    types: t.field({ type: [AuthenticatorTypeEnum], nullable: true, resolve: (f) => f.types }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (f) => f.expiresAt ?? null }),
  }),
});

export interface SessionShape {
  id: string;
  aal: number;
  methods: Array<{ method: string; at: string | Date; type?: string | null }>;
  ip: string;
  userAgent: string;
  createdAt: Date;
  lastSeenAt: Date;
  isCurrent: boolean;
  deviceId: string | null;
}

export const SessionMethodRef = builder.objectRef<{ method: string; at: string | Date; type?: string | null }>('SessionMethod').implement({
  fields: (t) => ({
    method: t.exposeString('method'),
    at: t.field({ type: 'DateTime', resolve: (m) => new Date(m.at) }),
    type: t.string({ nullable: true, resolve: (m) => m.type ?? null }),
  }),
});

export const SessionRef = builder.objectRef<SessionShape>('Session').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    aal: t.exposeInt('aal'),
    methods: t.field({ type: [SessionMethodRef], resolve: (s) => s.methods }),
    ip: t.exposeString('ip'),
    userAgent: t.exposeString('userAgent'),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
    lastSeenAt: t.field({ type: 'DateTime', resolve: (s) => s.lastSeenAt }),
    isCurrent: t.exposeBoolean('isCurrent'),
  }),
});

export function sessionFromView(view: SessionView): SessionShape {
  return { id: view.id, aal: view.aal, methods: view.methods, ip: view.ip, userAgent: view.userAgent, createdAt: view.createdAt, lastSeenAt: view.lastSeenAt, isCurrent: true, deviceId: view.deviceId };
}

function sessionFromRow(row: SessionRow, currentId: string | null): SessionShape {
  return { id: row.session_id, aal: row.aal, methods: row.methods, ip: row.ip, userAgent: row.user_agent, createdAt: row.created_at, lastSeenAt: row.last_seen_at, isCurrent: row.session_id === currentId, deviceId: row.device_id };
}

export const UserRef = builder.objectRef<UserView>('User').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    roles: t.exposeStringList('roles'),
    createdAt: t.field({ type: 'DateTime', resolve: (u) => u.createdAt }),
    authenticators: t.field({ type: [AuthenticatorRef], resolve: (u, _args, ctx) => listAuthenticators(ctx.deps, u.id) }),
    sessions: t.field({
      type: [SessionRef],
      resolve: async (u, _args, ctx) => {
        const current = ctx.caller.kind === 'session' ? ctx.caller.session.id : null;
        return (await listSessionsForDisplay(ctx.deps, u.id)).map((row) => sessionFromRow(row, current));
      },
    }),
  }),
});
