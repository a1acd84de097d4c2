// Devices (issue 13): "trust this device" after an MFA step, the user's list of devices, revoking trust, and signing
// out everywhere. A device is known to an account once a login of it completed there (sessions.ts startSessionIn);
// trust lets password logins from it skip the MFA step for MFA_TRUST_COOKIE_AGE_SECONDS, at AAL1.
import type { Queryable } from '../db/index.js';
import { deviceAggregate } from '../domain/device/aggregate.js';
import type { DeviceTrustRevokedReason } from '../domain/device/events.js';
import { DomainError } from '../domain/shared/errors.js';
import { listDevices, type DeviceRow } from '../projections/devices.js';
import { liveSchema } from '../projections/projector.js';
import { listActiveSessions } from '../projections/sessions.js';
import { requireSession } from './authorization.js';
import type { Caller } from './caller.js';
import { handle } from './commandHandler.js';
import type { Deps, WriteDeps } from './deps.js';
import type { RequestFacts } from './request.js';
import { revokeSessionIn } from './sessions.js';

type DeviceDeps = WriteDeps & Pick<Deps, 'config' | 'db'>;

/**
 * Answers the MFA_TRUST flow of the caller's session (asked after an MFA step when MFA_TRUST_ENABLED): trust this
 * device for the configured age, or not. The session exists either way; the flow never blocks anything.
 */
export async function trustDevice(deps: DeviceDeps, caller: Caller, trust: boolean, request: RequestFacts): Promise<void> {
  const auth = requireSession(caller);
  if (!deps.config.mfaTrust.enabled) throw new DomainError('FEATURE_DISABLED');
  const deviceId = auth.session.deviceId;
  // Only the session that was asked, from the device it was asked on.
  if (!auth.session.trustPending || !deviceId || deviceId !== request.deviceId) throw new DomainError('FLOW_NOT_PENDING');
  const now = deps.clock.now();
  const until = new Date(now.getTime() + deps.config.mfaTrust.ageSeconds * 1000).toISOString();
  await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, deviceAggregate, deviceId, {
      type: 'AnswerDeviceTrust', data: { deviceId, userId: auth.user.id, sessionId: auth.session.id, trust, until, now: now.toISOString() },
    }, request));
}

export interface DeviceView extends DeviceRow {
  trusted: boolean;
  current: boolean;
}

/** The caller's devices: known ones, with trust and the last time a session of it was seen there. */
export async function myDevices(deps: Pick<Deps, 'db' | 'clock' | 'personalData'>, caller: Caller, currentDeviceId: string | undefined): Promise<DeviceView[]> {
  const auth = requireSession(caller);
  const now = deps.clock.now();
  // Names are sealed in the projection (DeviceSeen's envelope): opened here for their owner.
  return (await deps.personalData.openDeep(deps.db, await listDevices(deps.db, auth.user.id))).map((row) => ({
    ...row, trusted: row.trusted_until !== null && now < new Date(row.trusted_until), current: row.device_id === currentDeviceId,
  }));
}

/** Ends the trust of the given devices of the caller (another account's device is simply not found). */
export async function revokeDeviceTrust(deps: DeviceDeps, caller: Caller, ids: string[], request: RequestFacts): Promise<string[]> {
  const auth = requireSession(caller);
  const own = new Set((await listDevices(deps.db, auth.user.id)).filter((d) => d.trusted_until !== null).map((d) => d.device_id));
  const revoked = ids.filter((id) => own.has(id));
  await deps.store.transactionWithRetry(async (tx) => {
    for (const deviceId of revoked) await revokeTrustIn(deps, tx, auth.user.id, deviceId, 'user', request);
  });
  return revoked;
}

async function revokeTrustIn(deps: WriteDeps, tx: Queryable, userId: string, deviceId: string, reason: DeviceTrustRevokedReason, request: RequestFacts): Promise<void> {
  await handle(deps, tx, deviceAggregate, deviceId, { type: 'RevokeDeviceTrust', data: { deviceId, userId, reason, now: deps.clock.now().toISOString() } }, request);
}

/** Every trusted device of the user loses its trust, in the caller's transaction (password change, factor removal). */
export async function revokeAllDeviceTrustIn(deps: WriteDeps, tx: Queryable, userId: string, reason: DeviceTrustRevokedReason, request: RequestFacts): Promise<void> {
  const rows = await tx.query<{ device_id: string }>(`select device_id from ${liveSchema}.devices where user_id = $1 and trusted_until is not null`, [userId]);
  for (const { device_id } of rows) await revokeTrustIn(deps, tx, userId, device_id, reason, request);
}

/** "Sign out everywhere": every session of the caller ends, this one too, and every device loses its trust. */
export async function signOutEverywhere(deps: DeviceDeps, caller: Caller, request: RequestFacts): Promise<{ endedSessionCount: number }> {
  const auth = requireSession(caller, { allowEnrollOnly: true });
  return deps.store.transactionWithRetry(async (tx) => {
    const sessions = await listActiveSessions(tx, auth.user.id);
    for (const s of sessions) await revokeSessionIn(deps, tx, s.session_id, 'signed_out_everywhere', request);
    await revokeAllDeviceTrustIn(deps, tx, auth.user.id, 'signed_out_everywhere', request);
    return { endedSessionCount: sessions.length };
  });
}
