// The client's pending-flow machine (packages/client/src/flow.ts): given a status, when an event, then a status.
import { describe, expect, it } from 'vitest';
import { initialStatus, pendingFlowOf, transition, type AuthState, type AuthStatus } from '../../packages/client/src/flow.js';

const anonymous: AuthState = {
  isAuthenticated: false, mfaEnrollmentDeadline: null, user: null, session: null,
  flows: [{ id: 'LOGIN', isPending: false, types: null, expiresAt: null }],
};
const pendingMfa: AuthState = { ...anonymous, flows: [{ id: 'MFA_AUTHENTICATE', isPending: true, types: ['TOTP', 'RECOVERY_CODES'], expiresAt: '2026-01-01T00:10:00.000Z' }] };
const signedIn: AuthState = {
  isAuthenticated: true, mfaEnrollmentDeadline: null,
  user: { id: 'u1', email: 'a@example.com', roles: [] },
  session: { id: 's1', aal: 2, createdAt: '2026-01-01T00:00:00.000Z', lastSeenAt: '2026-01-01T00:00:00.000Z', methods: [] },
  flows: [{ id: 'REAUTHENTICATE', isPending: false, types: null, expiresAt: null }, { id: 'MFA_REAUTHENTICATE', isPending: false, types: ['TOTP'], expiresAt: null }],
};

describe('pending-flow machine', () => {
  it('when a login needs its second factor, the pending flow is mfa_authenticate with its types', () => {
    const status = transition(initialStatus, { type: 'AuthStateReceived', authState: pendingMfa });
    expect(status.kind).toBe('pending');
    expect(pendingFlowOf(status)).toEqual({ id: 'mfa_authenticate', types: ['TOTP', 'RECOVERY_CODES'], expiresAt: '2026-01-01T00:10:00.000Z' });
  });

  it('when signed in, nothing is pending until the server asks for reauthentication, then reauthenticate with the MFA types', () => {
    const status = transition(initialStatus, { type: 'AuthStateReceived', authState: signedIn });
    expect(pendingFlowOf(status)).toBeNull();
    const asked = transition(status, { type: 'ReauthenticationRequired' });
    expect(pendingFlowOf(asked)).toEqual({ id: 'reauthenticate', types: ['TOTP'], expiresAt: null });
    expect(pendingFlowOf(transition(asked, { type: 'AuthStateReceived', authState: signedIn }))).toBeNull();
    expect(pendingFlowOf(transition(asked, { type: 'ReauthenticationAbandoned' }))).toBeNull();
  });

  it('when anonymous or pending, a reauthentication request changes nothing', () => {
    const status: AuthStatus = { kind: 'anonymous', authState: anonymous };
    expect(transition(status, { type: 'ReauthenticationRequired' })).toBe(status);
  });

  it('when the session ends, the status is anonymous whatever it was', () => {
    const status = transition(initialStatus, { type: 'AuthStateReceived', authState: signedIn });
    expect(transition(status, { type: 'SessionEnded' })).toEqual({ kind: 'anonymous', authState: null });
  });
});

describe('pending-flow machine: mfa_trust ("trust this device?")', () => {
  const asked: AuthState = { ...signedIn, flows: [...signedIn.flows, { id: 'MFA_TRUST', isPending: true, types: null, expiresAt: null }] };

  it('is pending beside a signed-in session, never instead of it; a reauthentication request comes first', () => {
    const status = transition(initialStatus, { type: 'AuthStateReceived', authState: asked });
    expect(status.kind).toBe('authenticated');
    expect(pendingFlowOf(status)).toEqual({ id: 'mfa_trust', types: null, expiresAt: null });
    const reauth = transition(status, { type: 'ReauthenticationRequired' });
    expect(pendingFlowOf(reauth)?.id).toBe('reauthenticate');
    expect(pendingFlowOf(transition(reauth, { type: 'ReauthenticationAbandoned' }))?.id).toBe('mfa_trust');
  });

  it('once answered, or when the server no longer asks, nothing is pending', () => {
    const status = transition(initialStatus, { type: 'AuthStateReceived', authState: asked });
    expect(pendingFlowOf(transition(status, { type: 'TrustAnswered' }))).toBeNull();
    expect(pendingFlowOf(transition(status, { type: 'AuthStateReceived', authState: signedIn }))).toBeNull();
    const anonymousStatus: AuthStatus = { kind: 'anonymous', authState: anonymous };
    expect(transition(anonymousStatus, { type: 'TrustAnswered' })).toBe(anonymousStatus);
  });
});
