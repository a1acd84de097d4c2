// Devices over GraphQL (issue 13): the caller's devices, the MFA_TRUST answer, revoking trust, signing out everywhere.
import { z } from 'zod';
import { myDevices, revokeDeviceTrust, signOutEverywhere, trustDevice, type DeviceView } from '../application/devices.js';
import { idSchema, parseInput } from '../application/validation.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { clearSessionCookie } from './guards.js';
import { SessionRef, UserRef } from './types.js';

const DeviceRef = builder.objectRef<DeviceView>('Device').implement({
  description: 'A browser or app install (its device cookie or token) on which a login of this account completed.',
  fields: (t) => ({
    id: t.id({ resolve: (d) => d.device_id }),
    name: t.string({ description: 'Browser and system, from the user agent of its first login.', resolve: (d) => d.name ?? '' }),
    trusted: t.boolean({ description: 'Password logins from it skip the MFA step (MFA_TRUST), until the trust runs out or is revoked.', resolve: (d) => d.trusted }),
    trustedUntil: t.field({ type: 'DateTime', nullable: true, resolve: (d) => (d.trusted ? d.trusted_until : null) }),
    firstSeenAt: t.field({ type: 'DateTime', resolve: (d) => d.first_seen_at }),
    lastSeenAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.last_seen_at }),
    current: t.boolean({ description: 'The device this request comes from.', resolve: (d) => d.current }),
  }),
});

/** The caller's devices, read once per request however many sessions ask for theirs. */
const devicesOfRequest = new WeakMap<GraphQLContext, Promise<DeviceView[]>>();
function devicesOf(ctx: GraphQLContext): Promise<DeviceView[]> {
  let devices = devicesOfRequest.get(ctx);
  if (!devices) devicesOfRequest.set(ctx, (devices = myDevices(ctx.deps, ctx.caller, ctx.request.deviceId)));
  return devices;
}

builder.objectField(UserRef, 'devices', (t) => t.field({ type: [DeviceRef], resolve: (_user, _args, ctx) => devicesOf(ctx) }));

builder.objectField(SessionRef, 'device', (t) =>
  t.field({
    type: DeviceRef,
    nullable: true,
    resolve: async (session, _args, ctx) => (session.deviceId ? (await devicesOf(ctx)).find((d) => d.device_id === session.deviceId) ?? null : null),
  }),
);

const TrustDeviceInput = builder.inputType('TrustDeviceInput', { fields: (t) => ({ trust: t.boolean({ required: true }) }) });
const TrustDevicePayloadRef = builder.objectRef<{ trusted: boolean }>('TrustDevicePayload').implement({
  fields: (t) => ({ trusted: t.exposeBoolean('trusted') }),
});

builder.mutationField('trustDevice', (t) =>
  t.field({
    errors: {},
    type: TrustDevicePayloadRef,
    description: 'Answers the pending MFA_TRUST flow: trust this device (password logins from it skip the MFA step for MFA_TRUST_COOKIE_AGE_SECONDS) or not.',
    args: { input: t.arg({ type: TrustDeviceInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { trust } = parseInput(z.object({ trust: z.boolean() }), args.input);
      await trustDevice(ctx.deps, ctx.caller, trust, ctx.request);
      return { trusted: trust };
    },
  }),
);

const RevokeDeviceTrustInput = builder.inputType('RevokeDeviceTrustInput', { fields: (t) => ({ ids: t.idList({ required: true }) }) });
const RevokeDeviceTrustPayloadRef = builder.objectRef<{ revokedIds: string[] }>('RevokeDeviceTrustPayload').implement({
  fields: (t) => ({ revokedIds: t.exposeIDList('revokedIds') }),
});

builder.mutationField('revokeDeviceTrust', (t) =>
  t.field({
    errors: {},
    type: RevokeDeviceTrustPayloadRef,
    args: { input: t.arg({ type: RevokeDeviceTrustInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { ids } = parseInput(z.object({ ids: z.array(idSchema).min(1).max(100) }), args.input);
      return { revokedIds: await revokeDeviceTrust(ctx.deps, ctx.caller, ids, ctx.request) };
    },
  }),
);

const SignOutEverywherePayloadRef = builder.objectRef<{ endedSessionCount: number }>('SignOutEverywherePayload').implement({
  fields: (t) => ({ endedSessionCount: t.exposeInt('endedSessionCount') }),
});

builder.mutationField('signOutEverywhere', (t) =>
  t.field({
    errors: {},
    type: SignOutEverywherePayloadRef,
    description: 'Ends every session of the account, this one included, and the trust of every device.',
    resolve: async (_root, _args, ctx) => {
      const result = await signOutEverywhere(ctx.deps, ctx.caller, ctx.request);
      clearSessionCookie(ctx);
      return result;
    },
  }),
);
