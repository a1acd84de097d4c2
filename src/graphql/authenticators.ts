// `me.authenticators`: every factor of the user, read from the authenticators stream.
import { load } from '../application/commandHandler.js';
import type { Deps } from '../application/deps.js';
import { authenticatorsAggregate } from '../domain/authenticators/aggregate.js';
import { unusedRecoveryCodeCount, type AuthenticatorsState, type WebAuthnCredentialState } from '../domain/authenticators/state.js';
import { builder } from './builder.js';

export const AuthenticatorTypeEnum = builder.enumType('AuthenticatorType', { values: ['TOTP', 'RECOVERY_CODES', 'WEBAUTHN', 'EMAIL'] as const });

export type AuthenticatorShape =
  | { kind: 'TOTP'; createdAt: string; lastUsedAt: string | null }
  | { kind: 'RECOVERY_CODES'; createdAt: string; lastUsedAt: string | null; totalCodeCount: number; unusedCodeCount: number }
  | { kind: 'WEBAUTHN'; credential: WebAuthnCredentialState }
  | { kind: 'EMAIL'; createdAt: string; lastUsedAt: string | null };

export const AuthenticatorRef = builder.interfaceRef<AuthenticatorShape>('Authenticator').implement({
  resolveType: (a) => ({ TOTP: 'TotpAuthenticator', RECOVERY_CODES: 'RecoveryCodesAuthenticator', WEBAUTHN: 'WebAuthnAuthenticator', EMAIL: 'EmailCodeAuthenticator' })[a.kind],
  fields: (t) => ({
    type: t.field({ type: AuthenticatorTypeEnum, resolve: (a) => a.kind }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => new Date(a.kind === 'WEBAUTHN' ? a.credential.createdAt : a.createdAt) }),
    lastUsedAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (a) => {
        const at = a.kind === 'WEBAUTHN' ? a.credential.lastUsedAt : a.lastUsedAt;
        return at ? new Date(at) : null;
      },
    }),
  }),
});

builder.objectRef<Extract<AuthenticatorShape, { kind: 'TOTP' }>>('TotpAuthenticator').implement({ interfaces: [AuthenticatorRef], fields: () => ({}) });

builder.objectRef<Extract<AuthenticatorShape, { kind: 'EMAIL' }>>('EmailCodeAuthenticator').implement({
  description: "One-time codes sent to the account's email address: the weaker factor (a login with one is AAL1).",
  interfaces: [AuthenticatorRef],
  fields: () => ({}),
});

builder.objectRef<Extract<AuthenticatorShape, { kind: 'RECOVERY_CODES' }>>('RecoveryCodesAuthenticator').implement({
  interfaces: [AuthenticatorRef],
  fields: (t) => ({
    totalCodeCount: t.exposeInt('totalCodeCount'),
    unusedCodeCount: t.exposeInt('unusedCodeCount'),
  }),
});

builder.objectRef<Extract<AuthenticatorShape, { kind: 'WEBAUTHN' }>>('WebAuthnAuthenticator').implement({
  interfaces: [AuthenticatorRef],
  fields: (t) => ({
    id: t.id({ resolve: (a) => a.credential.authenticatorId }),
    name: t.string({ resolve: (a) => a.credential.name }),
    isPasswordless: t.boolean({ resolve: (a) => a.credential.isPasswordless }),
  }),
});

export function authenticatorsOf(state: AuthenticatorsState): AuthenticatorShape[] {
  const list: AuthenticatorShape[] = [];
  if (state.totp.status === 'active') list.push({ kind: 'TOTP', createdAt: state.totp.createdAt!, lastUsedAt: state.totp.lastUsedAt });
  for (const credential of state.webauthn) list.push({ kind: 'WEBAUTHN', credential });
  if (state.email.status === 'active') list.push({ kind: 'EMAIL', createdAt: state.email.createdAt!, lastUsedAt: state.email.lastUsedAt });
  if (state.recoveryCodes) {
    list.push({
      kind: 'RECOVERY_CODES', createdAt: state.recoveryCodes.createdAt, lastUsedAt: state.recoveryCodes.lastUsedAt,
      totalCodeCount: state.recoveryCodes.codeHashes.length, unusedCodeCount: unusedRecoveryCodeCount(state),
    });
  }
  return list;
}

export async function listAuthenticators(deps: Pick<Deps, 'store'>, userId: string): Promise<AuthenticatorShape[]> {
  return authenticatorsOf((await load(deps.store, authenticatorsAggregate, userId)).state);
}
