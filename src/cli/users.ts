// `tessera users create|grant-role|revoke-role|unlock|list|reset-mfa|require-mfa|lift-mfa|sign-out|erase|
// suspended-factors|restore-factor`: operators' commands, written as events like any other change, through the same use
// cases as every other transport. The acting administrator of the events is 'operator' (whoever runs the CLI holds the
// server's configuration).
import type { App } from '../app.js';
import {
  liftMfaRequirement, listUsers, operator, requireMfa, resetUserMfa, revokeRoleAsAdministrator, signOutUser,
} from '../application/administration.js';
import { unlockUser } from '../application/lockout.js';
import { eraseUser } from '../application/accountChanges.js';
import { restoreFactorByAdmin, suspendedFactorsOf } from '../application/compromise.js';
import { grantRole } from '../application/roles.js';
import type { RequestFacts } from '../application/request.js';
import { createAccount } from '../application/signup.js';
import { emailSchema, idSchema, parseInput } from '../application/validation.js';
import { newSessionToken } from '../crypto/tokens.js';
import { findUserByEmail } from '../projections/users.js';

export interface UserCommandOptions {
  email?: string; password?: string; role?: string; admin?: boolean; reason?: string; deadline?: string; user?: string; factor?: string; id?: string;
  first?: string; after?: string; 'without-factor'?: boolean;
}

export async function runUserCommand(app: App, sub: string, options: UserCommandOptions): Promise<void> {
  const request: RequestFacts = { clientAddress: '', userAgent: 'tessera-cli', requestId: `cli-${Date.now()}`, actor: 'operator' };
  if (sub === 'erase' && options.user !== undefined) {
    // By id: how erasures are applied again after restoring a backup older than them (README: Backups).
    if (!options.reason) throw new Error('--reason is required (it is kept in clear: no personal data in it)');
    const userId = parseInput(idSchema, options.user);
    console.log(JSON.stringify(await eraseUser(app, operator.by, { userId, reason: options.reason }, request)));
    return;
  }
  if (sub === 'list') {
    const page = await listUsers(app, operator, {
      first: options.first ? Number(options.first) : 100, after: options.after ?? null,
      filter: { role: options.role ?? null, withoutStrongFactor: options['without-factor'] ? true : null },
    });
    for (const user of page.nodes) console.log(JSON.stringify(user));
    if (page.hasNextPage) console.log(JSON.stringify({ next: page.endCursor }));
    return;
  }
  if (!options.email) throw new Error('--email is required');
  const email = parseInput(emailSchema, options.email);
  if (sub === 'create') {
    // Without --password, a random one is printed once: the operator hands it over and the user changes it.
    const password = options.password ?? newSessionToken().slice(0, 20);
    const { userId } = await createAccount(app, { email, password }, request);
    if (options.admin) await grantRole(app, userId, 'admin', request);
    console.log(JSON.stringify({ userId, email, roles: options.admin ? ['admin'] : [], ...(options.password ? {} : { password }) }));
    return;
  }
  const user = await findUserByEmail(app.db, app.personalData.hashes.email(email));
  if (!user) throw new Error(`no user with email ${email}`);
  const userId = user.user_id;
  switch (sub) {
    case 'grant-role':
      if (!options.role) throw new Error('--role is required');
      await grantRole(app, userId, options.role, request);
      console.log(JSON.stringify({ userId, role: options.role }));
      return;
    case 'revoke-role':
      if (!options.role) throw new Error('--role is required');
      console.log(JSON.stringify(await revokeRoleAsAdministrator(app, operator, { userId, role: options.role, reason: options.reason }, request)));
      return;
    case 'unlock':
      // The operators' way out of a lock that only an administrator ends (the hard limit), without touching the database.
      console.log(JSON.stringify({ userId, unlocked: await unlockUser(app, userId, request) }));
      return;
    case 'reset-mfa':
      if (!options.reason) throw new Error('--reason is required');
      console.log(JSON.stringify(await resetUserMfa(app, operator, { userId, reason: options.reason }, request)));
      return;
    case 'require-mfa':
      if (!options.deadline) throw new Error('--deadline is required (ISO 8601)');
      console.log(JSON.stringify(await requireMfa(app, operator, { userId, deadline: options.deadline, reason: options.reason }, request)));
      return;
    case 'lift-mfa':
      console.log(JSON.stringify(await liftMfaRequirement(app, operator, { userId, reason: options.reason }, request)));
      return;
    case 'sign-out':
      console.log(JSON.stringify(await signOutUser(app, operator, { userId, reason: options.reason }, request)));
      return;
    case 'erase':
      // An operator's erase (issue 14 item 0), through the same use case as the admin mutation.
      if (!options.reason) throw new Error('--reason is required (it is kept in clear: no personal data in it)');
      console.log(JSON.stringify(await eraseUser(app, operator.by, { userId, reason: options.reason }, request)));
      return;
    case 'suspended-factors':
      console.log(JSON.stringify({ userId, suspended: await suspendedFactorsOf(app, userId) }));
      return;
    case 'restore-factor': {
      // Assisted recovery (README): only after the owner's identity is established by other means than the mailbox.
      const factor = options.factor;
      if (factor !== 'totp' && factor !== 'webauthn' && factor !== 'recovery_codes') throw new Error('--factor must be totp, webauthn or recovery_codes');
      if (factor === 'webauthn' && !options.id) throw new Error('--id is required for webauthn (see suspended-factors)');
      await restoreFactorByAdmin(app, userId, { factor, authenticatorId: factor === 'webauthn' ? options.id! : null }, request);
      console.log(JSON.stringify({ userId, restored: { factor, id: options.id ?? null } }));
      return;
    }
    default:
      throw new Error(`unknown users command: ${sub}`);
  }
}
