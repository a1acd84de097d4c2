// given(events).when(ResetMfa).then(events), and the MFA policy's deadline rules: pure.
import { describe, expect, it } from 'vitest';
import { decideAuthenticators } from '../../../src/domain/authenticators/aggregate.js';
import type { AuthenticatorEvent } from '../../../src/domain/authenticators/events.js';
import { evolveAuthenticators, hasSecondFactor, initialAuthenticatorsState } from '../../../src/domain/authenticators/state.js';
import { mfaRequirement } from '../../../src/domain/user/policy.js';
import { initialUserState } from '../../../src/domain/user/state.js';

const u = 'u1';
const at = '2026-01-01T00:00:00.000Z';
const key = (id: string, isPasswordless: boolean): AuthenticatorEvent => ({
  type: 'WebAuthnCredentialRegistered',
  data: { userId: u, authenticatorId: id, credentialId: `c-${id}`, publicKey: 'pk', counter: 0, transports: [], aaguid: '', backupEligible: false, backedUp: false, isPasswordless, name: id, at },
});
const totp: AuthenticatorEvent = { type: 'TotpActivated', data: { userId: u, secretCiphertext: 'c', keyId: 'k', step: 1, at } };
const codes: AuthenticatorEvent = { type: 'RecoveryCodesGenerated', data: { userId: u, setId: 's', codeHashes: ['h'], codesCiphertext: null, keyId: 'k', at } };
const given = (events: AuthenticatorEvent[]) => events.reduce(evolveAuthenticators, initialAuthenticatorsState);
const reset = (hasPassword: boolean) => ({ type: 'ResetMfa' as const, data: { userId: u, by: 'admin-1', reason: 'lost', hasPassword, now: at } });

describe('ResetMfa', () => {
  it('with a password: every factor is removed by its own event, after MfaReset, and the recovery codes go', () => {
    const state = given([totp, key('a', false), key('b', true), codes]);
    const events = decideAuthenticators(reset(true), state);
    expect(events.map((e) => e.type)).toEqual(['MfaReset', 'TotpDeactivated', 'WebAuthnCredentialRemoved', 'WebAuthnCredentialRemoved']);
    const after = events.reduce(evolveAuthenticators, state);
    expect(hasSecondFactor(after)).toBe(false);
    expect(after.recoveryCodes).toBeNull();
  });

  it('a passkey-only account keeps its passkeys (its only way in) and loses everything else', () => {
    const state = given([key('passkey', true), key('second', false), totp, codes]);
    const events = decideAuthenticators(reset(false), state);
    expect(events[0]).toMatchObject({ type: 'MfaReset', data: { keptAuthenticatorIds: ['passkey'], by: 'admin-1' } });
    const after = events.reduce(evolveAuthenticators, state);
    expect(after.webauthn.map((c) => c.authenticatorId)).toEqual(['passkey']);
    expect({ totp: after.totp.status, codes: after.recoveryCodes }).toEqual({ totp: 'none', codes: null });
  });
});

describe('MFA policy', () => {
  const policy = { requiredRoles: ['admin', 'auditor'], graceSeconds: 86_400 };
  const user = { ...initialUserState, exists: true, userId: u, createdAt: at, roles: ['auditor'], roleGrantedAt: { auditor: at } };
  it('the earlier of the role deadline and the administrator\'s applies; a strong factor meets both', () => {
    const day = new Date(Date.parse(at) + 86_400_000);
    expect(mfaRequirement(user, false, new Date(at), policy)).toEqual({ deadline: day, enrollOnly: false });
    const sooner = '2026-01-01T06:00:00.000Z';
    expect(mfaRequirement({ ...user, mfaRequiredBy: sooner }, false, new Date('2026-01-01T07:00:00.000Z'), policy)).toEqual({ deadline: new Date(sooner), enrollOnly: true });
    expect(mfaRequirement({ ...user, roles: [], mfaRequiredBy: sooner }, false, new Date(at), policy).deadline).toEqual(new Date(sooner));
    expect(mfaRequirement({ ...user, mfaRequiredBy: sooner }, true, new Date('2027-01-01T00:00:00.000Z'), policy)).toEqual({ deadline: null, enrollOnly: false });
    expect(mfaRequirement({ ...user, roles: ['analyst'] }, false, new Date('2027-01-01T00:00:00.000Z'), policy)).toEqual({ deadline: null, enrollOnly: false });
  });
});

describe('email codes (decider)', () => {
  const issued = (codeId: string, flowId: string, issuedAt = at): AuthenticatorEvent => ({
    type: 'EmailCodeIssued', data: { userId: u, codeId, purpose: 'login', codeHash: 'h', keyId: 'k', flowId, sessionId: null, expiresAt: '2026-01-01T00:10:00.000Z', at: issuedAt },
  });
  const active: AuthenticatorEvent = { type: 'EmailCodeActivated', data: { userId: u, codeId: 'e0', at } };
  const authenticate = (matchedCodeId: string | null, flowId = 'f1', now = '2026-01-01T00:01:00.000Z') =>
    ({ type: 'AuthenticateEmailCode' as const, data: { userId: u, flowId, matchedCodeId, refused: false, now } });

  it('a code already accepted is CODE_REPLAYED, whatever the flow state', () => {
    const state = given([active, issued('c1', 'f1'), { type: 'EmailCodeAccepted', data: { userId: u, codeId: 'c1', purpose: 'login', at } }]);
    expect(decideAuthenticators(authenticate('c1'), state)).toMatchObject([{ type: 'EmailCodeRejected', data: { reason: 'CODE_REPLAYED' } }]);
  });

  it('a code of another flow, a replaced code and an expired one are refused', () => {
    const state = given([active, issued('c1', 'f1'), issued('c2', 'f1')]);
    expect(decideAuthenticators(authenticate('c1'), state)[0]).toMatchObject({ data: { reason: 'INVALID_CODE' } });
    expect(decideAuthenticators(authenticate('c2', 'f2'), state)[0]).toMatchObject({ data: { reason: 'INVALID_CODE' } });
    expect(decideAuthenticators(authenticate('c2', 'f1', '2026-01-01T00:10:00.000Z'), state)[0]).toMatchObject({ data: { reason: 'CODE_EXPIRED' } });
    expect(decideAuthenticators(authenticate('c2'), state)[0]).toMatchObject({ type: 'EmailCodeAccepted' });
  });

  it('an email code is never a strong factor and needs no recovery codes', () => {
    const state = given([active]);
    expect(hasSecondFactor(state)).toBe(false);
  });
});
