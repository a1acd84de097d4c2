// Who is calling: a bearer token or cookie resolved to a live session or a pending login, on every request and for
// every transport. Ending an expired session and recording activity are events like any other.
import { isFlowToken, readFlowToken, type PendingFlowKind } from '../crypto/recoveryTokens.js';
import { hashToken, isPendingLoginToken } from '../crypto/tokens.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { loginAggregate } from '../domain/login/aggregate.js';
import { hasStrongSecondFactor } from '../domain/authenticators/state.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { isMfaRequired, mfaPolicyOf, mfaRequirement } from '../domain/user/policy.js';
import { sessionAggregate } from '../domain/session/aggregate.js';
import type { SessionMethod } from '../domain/session/events.js';
import { sessionExpiry } from '../domain/session/state.js';
import { ConcurrencyError, type ReadAheadRow } from '../eventstore/index.js';
import type { DeviceStanding } from '../projections/accountFailures.js';
import { findTokenHolder } from '../projections/sessions.js';
import type { ReadAheadJoin } from '../projections/projector.js';
import { factorLoginAppendsByDevice } from './appendCounts.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import { actingAs, type RequestFacts } from './request.js';

export interface SessionView {
  id: string;
  userId: string;
  aal: 1 | 2;
  methods: Array<{ method: string; at: string; type?: string | null }>;
  ip: string;
  userAgent: string;
  createdAt: Date;
  lastSeenAt: Date;
  lastActivityRecordedAt: Date;
  reauthenticatedAt: Date | null;
  /** Limited to setting up a factor (an admin past the MFA grace period). */
  enrollOnly: boolean;
  /** The device the session was started from (its device cookie or token). */
  deviceId: string | null;
  /** Asked "trust this device?" after its MFA step and not answered yet (the MFA_TRUST flow). */
  trustPending: boolean;
}

export interface UserView {
  id: string;
  email: string;
  roles: string[];
  createdAt: Date;
}

export interface PendingLoginView {
  flowId: string;
  userId: string;
  stage: 'MFA_AUTHENTICATE';
  types: string[];
  expiresAt: Date;
}

/** A pending VERIFY_EMAIL or PASSWORD_RESET_BY_CODE flow (signed token): grants nothing but the flow's next step. */
export interface PendingAccountFlowView {
  flow: PendingFlowKind;
  /** The account, or an id that names none (an unknown or taken address): the caller cannot tell which. */
  subject: string;
  expiresAt: Date;
}

export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'flow'; token: string; flow: PendingAccountFlowView }
  | { kind: 'pending'; token: string; flow: PendingLoginView; standing?: RequestStanding; readAhead?: ReadAheadRow }
  | { kind: 'session'; token: string; session: SessionView; user: UserView };

/** The requesting device's standing in the pending user's budget, read with the token (its MFA step's first read). */
export interface RequestStanding extends DeviceStanding {
  /** The device it was read for. */
  deviceId: string | undefined;
}

export type SessionCaller = Extract<Caller, { kind: 'session' }>;
export type PendingCaller = Extract<Caller, { kind: 'pending' }>;
export type FlowCaller = Extract<Caller, { kind: 'flow' }>;

export const anonymous: Caller = { kind: 'anonymous' };

type CallerDeps = Pick<Deps, 'db' | 'store' | 'clock' | 'config' | 'personalData'> & { secrets?: Deps['secrets'] };

/** Runs a session command that a racing request may have written first (it then decided the same thing). */
async function tolerateRace(run: () => Promise<unknown>): Promise<void> {
  await run().catch((error) => {
    if (!(error instanceof ConcurrencyError)) throw error;
  });
}

export async function resolveCaller(deps: CallerDeps, token: string, request: RequestFacts): Promise<Caller> {
  if (isFlowToken(token)) {
    const claim = deps.secrets ? readFlowToken(deps.secrets.keys, token, deps.clock.now()) : null;
    return claim ? { kind: 'flow', token, flow: claim } : anonymous;
  }
  const tokenHash = hashToken(token);
  const now = deps.clock.now();
  const { config } = deps;
  const { session, flow, flowStanding, flowReadAhead } = await findTokenHolder(deps.db, tokenHash, request.deviceId, isPendingLoginToken(token) ? mfaStepReadAhead(deps, request) : undefined);
  if (session) {
    const expired = sessionExpiry({ createdAt: session.created_at, lastActivityAt: session.last_seen_at }, now, {
      idleSeconds: config.sessionIdleTimeoutSeconds,
      absoluteSeconds: config.sessionAbsoluteTimeoutSeconds,
    });
    const system = actingAs(request, 'system');
    if (expired) {
      await tolerateRace(() => deps.store.transaction((tx) =>
        handle(deps, tx, sessionAggregate, session.session_id, { type: 'ExpireSession', data: { reason: expired, now: now.toISOString() } }, system)));
      return anonymous;
    }
    const intervalSeconds = config.sessionActivityIntervalSeconds;
    let lastSeenAt = session.last_seen_at;
    if (config.trackSessionActivity && now.getTime() >= session.last_seen_at.getTime() + intervalSeconds * 1000) {
      // This request is the activity being recorded (or a racing request recorded it first): it sees itself.
      lastSeenAt = now;
      await tolerateRace(() => deps.store.transaction((tx) =>
        handle(deps, tx, sessionAggregate, session.session_id, {
          type: 'RecordSessionActivity', data: { ip: request.clientAddress, now: now.toISOString(), intervalSeconds },
        }, actingAs(request, session.user_id))));
    }
    // The row carries the user's wrapped key: opening the email, address and user agent costs no round trip.
    deps.personalData.prime(session.user_id, session.data_key);
    const clear = await deps.personalData.openDeep(deps.db, { email: session.email, ip: session.ip, userAgent: session.user_agent });
    const enrollOnly = session.enroll_only || (session.aal < 2 && (await pastMfaDeadline(deps, session.user_id, { roles: session.roles, mfaRequiredBy: session.mfa_required_by ? new Date(session.mfa_required_by).toISOString() : null }, now)));
    return {
      kind: 'session',
      token,
      session: {
        id: session.session_id,
        userId: session.user_id,
        aal: session.aal === 2 ? 2 : 1,
        methods: session.methods as SessionMethod[],
        ip: clear.ip ?? '',
        userAgent: clear.userAgent ?? '',
        createdAt: session.created_at,
        lastSeenAt,
        lastActivityRecordedAt: lastSeenAt,
        reauthenticatedAt: session.reauthenticated_at,
        enrollOnly,
        deviceId: session.device_id,
        trustPending: session.trust_pending,
      },
      user: { id: session.user_id, email: clear.email ?? '', roles: session.roles, createdAt: session.user_created_at },
    };
  }
  if (flow) {
    return {
      kind: 'pending', token, flow: { flowId: flow.flow_id, userId: flow.user_id, stage: 'MFA_AUTHENTICATE', types: flow.types, expiresAt: flow.expires_at },
      ...(flowStanding ? { standing: { ...flowStanding, deviceId: request.deviceId } } : {}),
      ...(flowReadAhead ? { readAhead: flowReadAhead } : {}),
    };
  }
  return anonymous;
}

/**
 * What a pending login's MFA step reads and draws first (the authenticators and the login, the positions of a success:
 * completeMfaStepWithCode), read with the token that names it: the step then starts its transaction with its append,
 * a round trip fewer. Only for a token minted for a pending login (newPendingLoginToken): a session's reads nothing
 * more; a pending token used for anything else leaves the drawn positions as gaps, as a failed step does. PostgreSQL
 * only.
 */
function mfaStepReadAhead(deps: CallerDeps, request: RequestFacts): ReadAheadJoin | undefined {
  if (deps.db.kind !== 'postgres') return undefined;
  return {
    // Stream ids as the aggregates name them, from the flow row the lookup found (none: no pending login, no read).
    // The positions: fewer when the device is known to the account (its attempt then counts in the device's own bucket,
    // and the session records no DeviceSeen), as the lookup's standing (st) tells.
    sql: deps.store.readAheadSql(
      `case when f.flow_id is null then '{}'::text[] else array[$3::text || f.user_id::text, $4::text || f.flow_id::text] end`,
      'case when st.device_known then $5::int else $6::int end'),
    params: [
      authenticatorsAggregate.streamId(''), loginAggregate.streamId(''),
      ...factorLoginAppendsByDevice(request),
    ],
  };
}

/** The streams mfaStepReadAhead reads for a pending login, as the MFA step checks them. */
export function mfaStepStreams(flow: Pick<PendingLoginView, 'userId' | 'flowId'>): string[] {
  return [authenticatorsAggregate.streamId(flow.userId), loginAggregate.streamId(flow.flowId)];
}

/**
 * A user the MFA policy covers (a role of MFA_REQUIRED_ROLES, or an administrator's requireMfa) logged in without a
 * strong factor during the grace period: once the deadline passes without one, that session is limited to enrolling
 * one, like a login after the deadline, instead of keeping its access until it ends. Only AAL1 sessions of such users
 * pay for the two reads.
 */
async function pastMfaDeadline(deps: CallerDeps, userId: string, user: { roles: string[]; mfaRequiredBy: string | null }, now: Date): Promise<boolean> {
  const policy = mfaPolicyOf(deps.config);
  if (!isMfaRequired(user, policy)) return false;
  const [{ state }, { state: factors }] = await Promise.all([load(deps.store, userAggregate, userId), load(deps.store, authenticatorsAggregate, userId)]);
  return mfaRequirement(state, hasStrongSecondFactor(factors), now, policy).enrollOnly;
}

/** The actor of the events a caller's request writes. */
export function actorOf(caller: Caller): string {
  return caller.kind === 'session' ? caller.user.id : caller.kind === 'pending' ? caller.flow.userId : 'anonymous';
}
