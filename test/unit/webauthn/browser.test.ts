// Real Chromium with a CDP virtual authenticator, on a static page at http://localhost:<port>, verified
// through src/crypto/webauthn/. One browser launch for the whole file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticationOptions, verifyAuthentication, type AuthenticationVerification } from '../../../src/crypto/webauthn/authentication.js';
import type { WebAuthnConfig } from '../../../src/crypto/webauthn/config.js';
import { createRegistrationOptions, verifyRegistration, type RegisteredCredential } from '../../../src/crypto/webauthn/registration.js';
import { extractUserHandle, userIdFromUserHandle } from '../../../src/crypto/webauthn/responses.js';
import {
  createCredentialInPage,
  getAssertionInPage,
  launchBrowserWithAuthenticator,
  setUserVerified,
  startStaticPageServer,
  type StaticPageServer,
  type VirtualAuthenticatorBrowser,
} from '../../fixtures/browser.js';

const USER = { id: '7d2f4c1e-90ab-4b3c-8e5f-1a2b3c4d5e6f', name: 'grace@example.test', displayName: 'Grace' };

let server: StaticPageServer;
let browser: VirtualAuthenticatorBrowser;
let config: WebAuthnConfig;

beforeAll(async () => {
  server = await startStaticPageServer();
  browser = await launchBrowserWithAuthenticator(server.origin);
  config = { rpId: 'localhost', rpName: 'Tessera', origins: [server.origin], allowInsecureOrigin: false };
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function registerInBrowser(passwordless: boolean): Promise<RegisteredCredential> {
  const { options, challenge } = await createRegistrationOptions({ config, user: USER, excludeCredentials: [], passwordless });
  const response = await createCredentialInPage(browser.page, options);
  const result = await verifyRegistration({ config, response, expectedChallenge: challenge, requireUserVerification: passwordless });
  if (!result.verified) throw new Error(`browser registration did not verify: ${result.reason}`);
  return result.credential;
}

describe('WebAuthn in Chromium with a virtual authenticator', () => {
  let securityKey: RegisteredCredential;
  let passkey: RegisteredCredential;

  it('a security-key style registration and a second-factor assertion verify', async () => {
    securityKey = await registerInBrowser(false);
    expect(securityKey.id).toMatch(/^[A-Za-z0-9_-]+$/);

    const { options, challenge } = await createAuthenticationOptions({
      config,
      allowCredentials: [{ id: securityKey.id, transports: securityKey.transports }],
      userVerification: 'preferred',
    });
    const response = await getAssertionInPage(browser.page, options);
    expect(response.id).toBe(securityKey.id);
    const result = await verifyAuthentication({
      config,
      response,
      expectedChallenge: challenge,
      credential: securityKey,
      requireUserVerification: false,
    });
    expect(result).toMatchObject({ verified: true });
  });

  it('a passkey registration and a discoverable assertion verify and return our user handle', async () => {
    passkey = await registerInBrowser(true);
    expect(passkey.userVerified).toBe(true);

    const { options, challenge } = await createAuthenticationOptions({ config, userVerification: 'required' });
    expect(options.allowCredentials ?? []).toEqual([]);
    const response = await getAssertionInPage(browser.page, options);
    // The security key was registered with residentKey 'discouraged', so the passkey is the only
    // discoverable credential the browser can offer.
    expect(response.id).toBe(passkey.id);
    const handle = extractUserHandle(response);
    expect(userIdFromUserHandle(handle ?? '')).toBe(USER.id);
    const result = await verifyAuthentication({
      config,
      response,
      expectedChallenge: challenge,
      credential: passkey,
      requireUserVerification: true,
    });
    expect(result).toMatchObject({ verified: true, userVerified: true });
  });

  it('with the user not verified, a UV-required assertion does not verify', async () => {
    await setUserVerified(browser.cdp, browser.authenticatorId, false);
    try {
      const { options, challenge } = await createAuthenticationOptions({
        config,
        allowCredentials: [{ id: passkey.id }],
        userVerification: 'required',
      });
      let outcome: AuthenticationVerification | { browserRefused: string };
      try {
        const response = await getAssertionInPage(browser.page, options);
        outcome = await verifyAuthentication({
          config,
          response,
          expectedChallenge: challenge,
          credential: passkey,
          requireUserVerification: true,
        });
      } catch (error) {
        outcome = { browserRefused: error instanceof Error ? error.message : String(error) };
      }
      // Chromium refuses the ceremony itself (NotAllowedError) when UV is required and fails; if a future
      // version returned an assertion instead, the wrapper must still refuse it for lack of the UV flag.
      if ('browserRefused' in outcome) {
        expect(outcome.browserRefused).toMatch(/NotAllowedError/);
      } else {
        expect(outcome).toEqual({ verified: false, reason: 'USER_NOT_VERIFIED' });
      }

      // Chromium refuses even 'preferred' once the authenticator fails UV, so to get a genuine browser
      // assertion without the UV flag we ask with 'discouraged' (what a page an attacker controls could
      // send). A verifier that requires UV (a passkey login) must refuse exactly that response.
      const relaxed = await createAuthenticationOptions({
        config,
        allowCredentials: [{ id: passkey.id }],
        userVerification: 'preferred',
      });
      const unverified = await getAssertionInPage(browser.page, { ...relaxed.options, userVerification: 'discouraged' });
      const verifyUnverified = (requireUserVerification: boolean): Promise<AuthenticationVerification> =>
        verifyAuthentication({
          config,
          response: unverified,
          expectedChallenge: relaxed.challenge,
          credential: passkey,
          requireUserVerification,
        });
      await expect(verifyUnverified(true)).resolves.toEqual({ verified: false, reason: 'USER_NOT_VERIFIED' });
      await expect(verifyUnverified(false)).resolves.toMatchObject({ verified: true, userVerified: false });
    } finally {
      await setUserVerified(browser.cdp, browser.authenticatorId, true);
    }
  });
});
