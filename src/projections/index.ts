// The read models Tessera keeps. Add a projector here and it runs inline and in every rebuild.
import { allEventTypes } from '../domain/eventTypes.js';
import { createAuditProjector } from './audit.js';
import type { Projector } from './projector.js';
import { usersProjector } from './users.js';
import { loginFlowsProjector } from './loginFlows.js';
import { sessionsProjector } from './sessions.js';
import { accountFailuresProjector } from './accountFailures.js';
import { devicesProjector } from './devices.js';
import { userMfaProjector } from './userMfa.js';

export function allProjectors(): Projector[] {
  return [createAuditProjector(allEventTypes), usersProjector, loginFlowsProjector, sessionsProjector, accountFailuresProjector, devicesProjector, userMfaProjector];
}

export { Projections, runStatements } from './runner.js';
export { liveSchema, type Projector, type SqlStatement } from './projector.js';
