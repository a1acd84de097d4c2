// given(events).when(command).then(events or error), for the TOTP and recovery-code deciders.
import { describe, expect, it } from 'vitest';
import type { RecoveryCodeCommand, TotpCommand } from '../../../src/domain/authenticators/commands.js';
import { decideRecoveryCodes } from '../../../src/domain/authenticators/decideRecoveryCodes.js';
import { decideTotp } from '../../../src/domain/authenticators/decideTotp.js';
import type { AuthenticatorEvent, RecoveryCodesGenerated } from '../../../src/domain/authenticators/events.js';
import { removesLastRequiredFactor } from '../../../src/domain/authenticators/policy.js';
import { evolveAuthenticators, initialAuthenticatorsState } from '../../../src/domain/authenticators/state.js';
import { DomainError } from '../../../src/domain/shared/errors.js';

const u = 'u1';
const at = '2026-01-01T00:00:00.000Z';
const later = '2026-01-01T00:05:00.000Z';
const set: RecoveryCodesGenerated = { type: 'RecoveryCodesGenerated', data: { userId: u, setId: 's1', codeHashes: ['h0', 'h1', 'h2'], codesCiphertext: 'sealed', keyId: 'k', at } };
const enrolled: AuthenticatorEvent = { type: 'TotpEnrollmentStarted', data: { userId: u, secretCiphertext: 'c1', keyId: 'k', expiresAt: '2026-01-01T00:10:00.000Z', sessionId: 's-setup', at } };
const activated: AuthenticatorEvent = { type: 'TotpActivated', data: { userId: u, secretCiphertext: 'c1', keyId: 'k', step: 100, at } };
const accepted = (step: number): AuthenticatorEvent => ({ type: 'TotpCodeAccepted', data: { userId: u, step, purpose: 'login', at } });
const webauthn: AuthenticatorEvent = {
  type: 'WebAuthnCredentialRegistered',
  data: { userId: u, authenticatorId: 'w1', credentialId: 'cid', publicKey: 'pk', counter: 0, transports: [], aaguid: '', backupEligible: false, backedUp: false, isPasswordless: false, name: 'key', at },
};

const given = (events: AuthenticatorEvent[]) => events.reduce(evolveAuthenticators, initialAuthenticatorsState);
const totp = (matchedStep: number | null, verifiedCiphertext = 'c1'): TotpCommand => ({ type: 'AuthenticateTotp', data: { userId: u, verifiedCiphertext, matchedStep, purpose: 'login', now: later } });
const activate = (matchedStep: number | null, now = later, verifiedCiphertext = 'c1', sessionId = 's-setup'): TotpCommand => ({ type: 'ActivateTotp', data: { userId: u, verifiedCiphertext, sessionId, matchedStep, recoveryCodeSet: set, now } });
const deactivate = (factorRequired: boolean): TotpCommand => ({ type: 'DeactivateTotp', data: { userId: u, factorRequired, now: later } });
const use = (matchedIndex: number | null, setId: string | null = 's1'): RecoveryCodeCommand => ({ type: 'UseRecoveryCode', data: { userId: u, setId, matchedIndex, purpose: 'login', now: later } });

function outcome(run: () => AuthenticatorEvent[]): string[] | string {
  try {
    return run().map((e) => ('reason' in e.data ? `${e.type}:${e.data.reason}` : e.type));
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

describe('decideTotp', () => {
  const cases: Array<[string, AuthenticatorEvent[], TotpCommand, string[] | string]> = [
    ['with nothing set up, activation is illegal', [], activate(100), 'TOTP_NOT_PENDING'],
    ['when pending, a matching code activates and, as the first factor, brings recovery codes', [enrolled], activate(100), ['TotpActivated', 'RecoveryCodesGenerated']],
    ['when pending and a key exists, activation brings no new codes', [webauthn, set, enrolled], activate(100), ['TotpActivated']],
    ['when pending, a wrong code is recorded', [enrolled], activate(null), ['TotpActivationRejected:INVALID_CODE']],
    ['when the pending setup expired, activation is illegal', [enrolled], activate(100, '2026-01-01T00:10:00.000Z'), 'TOTP_NOT_PENDING'],
    ['when a newer setup replaced the checked one, activation is illegal', [enrolled], activate(100, later, 'c0'), 'TOTP_NOT_PENDING'],
    ['when pending, another session than the one that began the setup cannot activate it', [enrolled], activate(100, later, 'c1', 's-other'), 'TOTP_NOT_PENDING'],
    ['when active, setup again is refused', [enrolled, activated], { type: 'EnrollTotp', data: { userId: u, secretCiphertext: 'c2', keyId: 'k', sessionId: 's', now: later, expiresAt: later } }, 'TOTP_ALREADY_ACTIVE'],
    ['when active, a code of a later step is accepted', [enrolled, activated], totp(101), ['TotpCodeAccepted']],
    ['when active, the activation step is a replay', [enrolled, activated], totp(100), ['TotpCodeRejected:CODE_REPLAYED']],
    ['when active, the last used step is a replay', [enrolled, activated, accepted(105)], totp(105), ['TotpCodeRejected:CODE_REPLAYED']],
    ['when active, an earlier step after a later one is a replay', [enrolled, activated, accepted(105)], totp(104), ['TotpCodeRejected:CODE_REPLAYED']],
    ['when active, no match is INVALID_CODE', [enrolled, activated], totp(null), ['TotpCodeRejected:INVALID_CODE']],
    ['when active, a match against a replaced secret is INVALID_CODE', [enrolled, activated], totp(101, 'old'), ['TotpCodeRejected:INVALID_CODE']],
    ['when not active, a code is illegal', [enrolled], totp(101), 'TOTP_NOT_ACTIVE'],
    ['when active, a plain user may deactivate', [enrolled, activated], deactivate(false), ['TotpDeactivated']],
    ['when TOTP is an admin\'s only factor, it stays', [enrolled, activated, set], deactivate(true), 'LAST_FACTOR_REQUIRED'],
    ['when an admin also has a key, TOTP may go', [webauthn, enrolled, activated], deactivate(true), ['TotpDeactivated']],
    ['when not active, deactivation is illegal', [], deactivate(false), 'TOTP_NOT_ACTIVE'],
  ];
  it.each(cases)('%s', (_name, events, command, expected) => {
    expect(outcome(() => decideTotp(command, given(events)))).toEqual(expected);
  });
});

describe('decideRecoveryCodes', () => {
  const used: AuthenticatorEvent = { type: 'RecoveryCodeUsed', data: { userId: u, setId: 's1', index: 1, purpose: 'login', at } };
  const regenerated: RecoveryCodesGenerated = { ...set, data: { ...set.data, setId: 's2' } };
  const cases: Array<[string, AuthenticatorEvent[], RecoveryCodeCommand, string[] | string]> = [
    ['with a set, an unused code is used', [enrolled, activated, set], use(0), ['RecoveryCodeUsed']],
    ['with a set, a used code is a replay', [enrolled, activated, set, used], use(1), ['RecoveryCodeRejected:CODE_REPLAYED']],
    ['with a set, no match is INVALID_CODE', [enrolled, activated, set], use(null), ['RecoveryCodeRejected:INVALID_CODE']],
    ['after regeneration, a code of the old set is INVALID_CODE', [enrolled, activated, set, regenerated], use(0, 's1'), ['RecoveryCodeRejected:INVALID_CODE']],
    ['without a set, any code is INVALID_CODE', [enrolled, activated], use(null, null), ['RecoveryCodeRejected:INVALID_CODE']],
    ['with a factor, regeneration replaces the set', [enrolled, activated, set], { type: 'GenerateRecoveryCodes', data: { userId: u, set: regenerated } }, ['RecoveryCodesGenerated']],
    ['without a factor, regeneration is refused', [], { type: 'GenerateRecoveryCodes', data: { userId: u, set } }, 'NO_SECOND_FACTOR'],
  ];
  it.each(cases)('%s', (_name, events, command, expected) => {
    expect(outcome(() => decideRecoveryCodes(command, given(events)))).toEqual(expected);
  });

  it('counts WebAuthn keys as factors when removing an admin\'s last one', () => {
    expect(removesLastRequiredFactor(given([webauthn]), { kind: 'webauthn', authenticatorIds: ['w1'] }, true)).toBe(true);
    expect(removesLastRequiredFactor(given([webauthn, enrolled, activated]), { kind: 'webauthn', authenticatorIds: ['w1'] }, true)).toBe(false);
    expect(removesLastRequiredFactor(given([webauthn]), { kind: 'webauthn', authenticatorIds: ['w1'] }, false)).toBe(false);
  });
});
