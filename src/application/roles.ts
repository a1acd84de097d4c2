// Roles are granted and revoked by operators (CLI) as events on the user stream.
import { userAggregate } from '../domain/user/aggregate.js';
import { handle } from './commandHandler.js';
import type { WriteDeps } from './deps.js';
import type { RequestFacts } from './request.js';

export async function grantRole(deps: WriteDeps, userId: string, role: string, request: RequestFacts): Promise<void> {
  await deps.store.transactionWithRetry((tx) => handle(deps, tx, userAggregate, userId, { type: 'GrantRole', data: { role, now: deps.clock.now().toISOString() } }, request));
}

export async function revokeRole(deps: WriteDeps, userId: string, role: string, request: RequestFacts): Promise<void> {
  await deps.store.transactionWithRetry((tx) => handle(deps, tx, userAggregate, userId, { type: 'RevokeRole', data: { role, now: deps.clock.now().toISOString() } }, request));
}
