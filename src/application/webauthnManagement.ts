// RenameWebAuthn and RemoveWebAuthn: the caller's own keys only (another user's id is simply not found). Removing a
// key is a sensitive change, and an admin's last factor stays.
import { z } from 'zod';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import type { AuthenticatorsState } from '../domain/authenticators/state.js';
import { userAggregate } from '../domain/user/aggregate.js';
import { isMfaRequired, mfaPolicyOf } from '../domain/user/policy.js';
import { requireSensitiveChange, requireSession } from './authorization.js';
import type { Caller } from './caller.js';
import { revokeAllDeviceTrustIn } from './devices.js';
import { handle, load } from './commandHandler.js';
import type { Deps } from './deps.js';
import type { RequestFacts } from './request.js';
import { idSchema, nameSchema } from './validation.js';

export const renameWebAuthnInputSchema = z.object({ id: idSchema, name: nameSchema });
export const removeWebAuthnInputSchema = z.object({ ids: z.array(idSchema).min(1).max(50) });

type ManagementDeps = Pick<Deps, 'store' | 'clock' | 'config'>;

/** Returns the user's factors after the rename. */
export async function renameWebAuthn(
  deps: ManagementDeps, caller: Caller, input: z.output<typeof renameWebAuthnInputSchema>, request: RequestFacts,
): Promise<AuthenticatorsState> {
  const userId = requireSession(caller).user.id;
  const { state } = await deps.store.transactionWithRetry((tx) =>
    handle(deps, tx, authenticatorsAggregate, userId, { type: 'RenameWebAuthn', data: { userId, authenticatorId: input.id, name: input.name, now: deps.clock.now().toISOString() } }, request));
  return state;
}

/** Returns the factors left. */
export async function removeWebAuthn(
  deps: ManagementDeps, caller: Caller, input: z.output<typeof removeWebAuthnInputSchema>, request: RequestFacts,
): Promise<AuthenticatorsState> {
  const userId = (await requireSensitiveChange(deps, caller)).user.id;
  const user = (await load(deps.store, userAggregate, userId)).state;
  const { passwordHash } = user;
  const factorRequired = isMfaRequired(user, mfaPolicyOf(deps.config));
  const { state } = await deps.store.transactionWithRetry(async (tx) => {
    const handled = await handle(deps, tx, authenticatorsAggregate, userId, {
      type: 'RemoveWebAuthn', data: { userId, authenticatorIds: input.ids, factorRequired, hasPassword: passwordHash !== null, now: deps.clock.now().toISOString() },
    }, request);
    // As with TOTP: a removed factor takes every device's trust with it.
    await revokeAllDeviceTrustIn(deps, tx, userId, 'factor_removed', request);
    return handled;
  });
  return state;
}
