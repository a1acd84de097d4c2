// `tessera users create|grant-role|revoke-role|unlock`: operators' commands, written as events like any other change, through the same
// use cases as every other transport.
import type { App } from '../app.js';
import { unlockUser } from '../application/lockout.js';
import { eraseUser } from '../application/accountChanges.js';
import { grantRole, revokeRole } from '../application/roles.js';
import type { RequestFacts } from '../application/request.js';
import { createAccount } from '../application/signup.js';
import { emailSchema, idSchema, parseInput } from '../application/validation.js';
import { newSessionToken } from '../crypto/tokens.js';
import { findUserByEmail } from '../projections/users.js';

export async function runUserCommand(app: App, sub: string, options: { email?: string; password?: string; role?: string; admin?: boolean; reason?: string; user?: string }): Promise<void> {
  const request: RequestFacts = { clientAddress: '', userAgent: 'tessera-cli', requestId: `cli-${Date.now()}`, actor: 'system' };
  if (sub === 'erase' && options.user !== undefined) {
    // By id: how erasures are applied again after restoring a backup older than them (README: Backups).
    if (!options.reason) throw new Error('--reason is required (it is kept in clear: no personal data in it)');
    const userId = parseInput(idSchema, options.user);
    console.log(JSON.stringify(await eraseUser(app, 'system', { userId, reason: options.reason }, request)));
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
  if (sub === 'grant-role' || sub === 'revoke-role') {
    if (!options.role) throw new Error('--role is required');
    const user = await findUserByEmail(app.db, app.personalData.hashes.email(email));
    if (!user) throw new Error(`no user with email ${email}`);
    await (sub === 'grant-role' ? grantRole : revokeRole)(app, user.user_id, options.role, request);
    console.log(JSON.stringify({ userId: user.user_id, role: options.role }));
    return;
  }
  if (sub === 'unlock') {
    // The operators' way out of a lock that only an administrator ends (the hard limit), without touching the database.
    const user = await findUserByEmail(app.db, app.personalData.hashes.email(email));
    if (!user) throw new Error(`no user with email ${email}`);
    console.log(JSON.stringify({ userId: user.user_id, unlocked: await unlockUser(app, user.user_id, request) }));
    return;
  }
  if (sub === 'erase') {
    // An operator's erase (issue 14 item 0), through the same use case as the admin mutation; 'system' is the eraser.
    if (!options.reason) throw new Error('--reason is required (it is kept in clear: no personal data in it)');
    const user = await findUserByEmail(app.db, app.personalData.hashes.email(email));
    if (!user) throw new Error('no user with that email');
    console.log(JSON.stringify(await eraseUser(app, 'system', { userId: user.user_id, reason: options.reason }, request)));
    return;
  }
  throw new Error(`unknown users command: ${sub}`);
}
