// Devices per account: which devices completed a login of the account (known), which are trusted for the MFA step,
// and until when. Read by the attempt budget (a known device has its own), by password login (trust) and by `me`.
import type { Queryable } from '../db/index.js';
import type { DeviceEvent } from '../domain/device/events.js';
import { sealedField } from './users.js';
import { liveSchema, sql, type Handled, type Projector, type Recorded, type SqlStatement } from './projector.js';

const handles = ['DeviceSeen', 'DeviceTrusted', 'DeviceTrustRevoked', 'DeviceForgotten'] as const;
type DevicesEvent = Handled<DeviceEvent, typeof handles>;

export const devicesProjector: Projector<DevicesEvent> = {
  name: 'devices',
  version: 2,
  handles,
  tables: [{ name: 'devices', orderBy: 'device_id, user_id' }],
  ddl: (s) => `
    create table ${s}.devices (
      device_id     text not null,
      user_id       text not null,
      name          text,
      first_seen_at timestamptz not null,
      trusted_until timestamptz,
      primary key (device_id, user_id)
    );
    create index on ${s}.devices (user_id)`,
  project(event: Recorded<DevicesEvent>, s: string): SqlStatement[] {
    const { deviceId, userId } = event.data;
    switch (event.type) {
      case 'DeviceSeen':
        return [sql(`insert into ${s}.devices (device_id, user_id, name, first_seen_at) values ($1, $2, $3, $4)`, deviceId, userId, sealedField(event, 'name'), event.data.at)];
      case 'DeviceTrusted':
        return [sql(`update ${s}.devices set trusted_until = $3 where device_id = $1 and user_id = $2`, deviceId, userId, event.data.until)];
      case 'DeviceTrustRevoked':
        return [sql(`update ${s}.devices set trusted_until = null where device_id = $1 and user_id = $2`, deviceId, userId)];
      case 'DeviceForgotten':
        return [sql(`delete from ${s}.devices where device_id = $1 and user_id = $2`, deviceId, userId)];
    }
  },
};

export interface DeviceRow {
  device_id: string;
  /** Sealed (DeviceSeen's envelope): open it with the vault. */
  name: string | null;
  first_seen_at: Date;
  trusted_until: Date | null;
  last_seen_at: Date | null;
  [key: string]: unknown;
}

/** The account's devices, most recently used first; last seen from the sessions started on each. */
export async function listDevices(q: Queryable, userId: string): Promise<DeviceRow[]> {
  return q.query<DeviceRow>(
    `select d.device_id, d.name, d.first_seen_at, d.trusted_until,
            (select max(s.last_seen_at) from ${liveSchema}.sessions s where s.user_id = d.user_id and s.device_id = d.device_id) as last_seen_at
       from ${liveSchema}.devices d where d.user_id = $1
      order by last_seen_at desc nulls last, d.first_seen_at desc, d.device_id`,
    [userId],
  );
}

/** How many devices the account has completed a login on (the first is its signup: no "new device" news). */
export async function knownDeviceCount(q: Queryable, userId: string): Promise<number> {
  const [row] = await q.query<{ n: number }>(`select count(*)::int as n from ${liveSchema}.devices where user_id = $1`, [userId]);
  return row?.n ?? 0;
}
