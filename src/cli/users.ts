// `tessera users create|grant-role|revoke-role|unlock|suspended-factors|restore-factor`: operators' commands, written as events like any other change, through the same
// use cases as every other transport.
import type { App } from '../app.js';
import { unlockUser } from '../application/lockout.js';
import { restoreFactorByAdmin, suspendedFactorsOf } from '../application/compromise.js';
import { grantRole, revokeRole } from '../application/roles.js';
import type { RequestFacts } from '../application/request.js';
import { createAccount } from '../application/signup.js';
import { emailSchema, parseInput } from '../application/validation.js';
import { newSessionToken } from '../crypto/tokens.js';
import { findUserByEmail } from '../projections/users.js';

export async function runUserCommand(
  app: App, sub: string, options: { email?: string; password?: string; role?: string; admin?: boolean; factor?: string; id?: string },
): Promise<void> {
  const request: RequestFacts = { clientAddress: '', userAgent: 'tessera-cli', requestId: `cli-${Date.now()}`, actor: 'system' };
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
    const user = await findUserByEmail(app.db, email);
    if (!user) throw new Error(`no user with email ${email}`);
    await (sub === 'grant-role' ? grantRole : revokeRole)(app, user.user_id, options.role, request);
    console.log(JSON.stringify({ userId: user.user_id, role: options.role }));
    return;
  }
  if (sub === 'unlock') {
    // The operators' way out of a lock that only an administrator ends (the hard limit), without touching the database.
    const user = await findUserByEmail(app.db, email);
    if (!user) throw new Error(`no user with email ${email}`);
    console.log(JSON.stringify({ userId: user.user_id, unlocked: await unlockUser(app, user.user_id, request) }));
    return;
  }
  if (sub === 'suspended-factors' || sub === 'restore-factor') {
    const user = await findUserByEmail(app.db, email);
    if (!user) throw new Error(`no user with email ${email}`);
    if (sub === 'suspended-factors') {
      console.log(JSON.stringify({ userId: user.user_id, suspended: await suspendedFactorsOf(app, user.user_id) }));
      return;
    }
    // Assisted recovery (README): only after the owner's identity is established by other means than the mailbox.
    const factor = options.factor;
    if (factor !== 'totp' && factor !== 'webauthn' && factor !== 'recovery_codes') throw new Error('--factor must be totp, webauthn or recovery_codes');
    if (factor === 'webauthn' && !options.id) throw new Error('--id is required for webauthn (see suspended-factors)');
    await restoreFactorByAdmin(app, user.user_id, { factor, authenticatorId: factor === 'webauthn' ? options.id! : null }, request);
    console.log(JSON.stringify({ userId: user.user_id, restored: { factor, id: options.id ?? null } }));
    return;
  }
  throw new Error(`unknown users command: ${sub}`);
}
