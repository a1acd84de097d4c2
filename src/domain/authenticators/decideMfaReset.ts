// An administrator's MFA reset (resetUserMfa): pure. Every factor goes, each by its own removal event, so every
// reader of factor removals (analytics, the security feed) sees them as it sees a user's own, behind one MfaReset
// that names the administrator and the reason.
import type { MfaResetCommand } from './commands.js';
import type { AuthenticatorEvent } from './events.js';
import type { AuthenticatorsState } from './state.js';

export function decideMfaReset(command: MfaResetCommand, state: AuthenticatorsState): AuthenticatorEvent[] {
  const { userId, by, reason, hasPassword, now } = command.data;
  // A passkey-only account has no password to fall back on: removing its passkeys would leave it without a way in.
  // Its passwordless passkeys stay (and the payload and README say so); every other factor goes.
  const kept = hasPassword ? [] : state.webauthn.filter((c) => c.isPasswordless).map((c) => c.authenticatorId);
  const events: AuthenticatorEvent[] = [{ type: 'MfaReset', data: { userId, by, reason, keptAuthenticatorIds: kept, at: now } }];
  if (state.totp.status === 'active') events.push({ type: 'TotpDeactivated', data: { userId, at: now } });
  if (state.email.status === 'active') events.push({ type: 'EmailCodeRemoved', data: { userId, at: now } });
  for (const credential of state.webauthn) {
    if (kept.includes(credential.authenticatorId)) continue;
    events.push({ type: 'WebAuthnCredentialRemoved', data: { userId, authenticatorId: credential.authenticatorId, at: now } });
  }
  return events;
}
