// Logout ends whatever the caller holds: the session, or a pending login (so its token can never finish the MFA step).
import type { Caller } from './caller.js';
import type { WriteDeps } from './deps.js';
import { abandonLogin } from './loginFlow.js';
import { inLoginFlow, type RequestFacts } from './request.js';
import { revokeSessionIn } from './sessions.js';

export async function logout(deps: WriteDeps, caller: Caller, request: RequestFacts): Promise<void> {
  if (caller.kind === 'session') await deps.store.transactionWithRetry((tx) => revokeSessionIn(deps, tx, caller.session.id, 'logout', request));
  if (caller.kind === 'pending') await abandonLogin(deps, caller.flow.flowId, inLoginFlow(request, caller.flow.flowId));
}
