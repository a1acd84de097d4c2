// `tessera users create|grant-role`: operators' commands, written as events like any other change.
import type { App } from '../../app.js';
import { newSessionToken } from '../../crypto/tokens.js';
import { findUserByEmail } from '../../projections/users.js';
import { grantRole, signUp } from './handle.js';

export async function runUserCommand(app: App, sub: string, options: { email?: string; password?: string; role?: string; admin?: boolean }): Promise<void> {
  const request = { ip: 'cli', userAgent: 'tessera-cli', metadata: { actor: 'system', correlationId: `cli-${Date.now()}` } };
  const email = options.email?.trim().normalize('NFC').toLowerCase();
  if (!email) throw new Error('--email is required');
  if (sub === 'create') {
    // Without --password, a random one is printed once: the operator hands it over and the user changes it.
    const password = options.password ?? newSessionToken().slice(0, 20);
    const { userId } = await signUp(app, { email, password }, request);
    if (options.admin) await grantRole(app, userId, 'admin', request);
    console.log(JSON.stringify({ userId, email, roles: options.admin ? ['admin'] : [], ...(options.password ? {} : { password }) }));
    return;
  }
  if (sub === 'grant-role') {
    if (!options.role) throw new Error('--role is required');
    const user = await findUserByEmail(app.db, email);
    if (!user) throw new Error(`no user with email ${email}`);
    await grantRole(app, user.user_id, options.role, request);
    console.log(JSON.stringify({ userId: user.user_id, role: options.role }));
    return;
  }
  throw new Error(`unknown users command: ${sub}`);
}
