// The browser side of WebAuthn on @simplewebauthn/browser: each helper runs the whole ceremony (ask the server for
// options, run navigator.credentials, send the answer back) and resolves to the same Result as every other call. A
// person cancelling the browser's dialog is an expected failure (WEBAUTHN_CANCELLED), not an exception.
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from '@simplewebauthn/browser';
import type { Result, TesseraClient, TesseraError } from './client.js';

export type WebAuthnError = TesseraError | { code: 'WEBAUTHN_CANCELLED' | 'WEBAUTHN_UNSUPPORTED'; message: string };
export type WebAuthnResult<T> = { ok: true; data: T } | { ok: false; error: WebAuthnError };

export { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill };

function ceremonyFailed(error: unknown): { ok: false; error: WebAuthnError } {
  const name = (error as { name?: string; cause?: { name?: string } })?.cause?.name ?? (error as { name?: string })?.name;
  const message = error instanceof Error ? error.message : String(error);
  // NotAllowedError: the person dismissed the dialog or it timed out; AbortError: we cancelled it (a new ceremony).
  if (name === 'NotAllowedError' || name === 'AbortError') return { ok: false, error: { code: 'WEBAUTHN_CANCELLED', message } };
  return { ok: false, error: { code: 'WEBAUTHN_UNSUPPORTED', message } };
}

async function ceremony<T>(run: () => Promise<T>): Promise<WebAuthnResult<T>> {
  if (!browserSupportsWebAuthn()) return { ok: false, error: { code: 'WEBAUTHN_UNSUPPORTED', message: 'This browser does not support WebAuthn' } };
  try {
    return { ok: true, data: await run() };
  } catch (error) {
    return ceremonyFailed(error);
  }
}

/** Registers a security key (`passwordless: false`) or a passkey (`true`) for the signed-in user. */
export async function registerWebAuthn(client: TesseraClient, options: { name: string; passwordless: boolean }) {
  const begun = await client.beginWebAuthnRegistration(options.passwordless);
  if (!begun.ok) return begun;
  const credential = await ceremony(() => startRegistration({ optionsJSON: begun.data.creationOptions as never }));
  if (!credential.ok) return credential;
  return client.registerWebAuthn(options.name, credential.data);
}

/** A security key or passkey as the second factor of a pending login (MFA) or to reauthenticate (REAUTHENTICATE). */
export async function authenticateWebAuthn(client: TesseraClient, purpose: 'MFA' | 'REAUTHENTICATE') {
  const begun = await client.beginWebAuthnAuthentication(purpose);
  if (!begun.ok) return begun;
  const assertion = await ceremony(() => startAuthentication({ optionsJSON: begun.data.requestOptions as never }));
  if (!assertion.ok) return assertion;
  return client.authenticateWebAuthn(assertion.data);
}

/**
 * Passwordless login with a discoverable passkey. With `autofill: true` it runs conditional mediation: the browser
 * offers the passkeys in the autocomplete list of an `<input autocomplete="username webauthn">`, and the promise
 * settles only when the person picks one (or `cancelPasskeyAutofill()` / a modal ceremony replaces it).
 */
export async function loginWithPasskey(client: TesseraClient, options: { autofill?: boolean } = {}) {
  // An autofill request that was cancelled (or replaced by a newer one) while it was still asking the server for
  // options must not start its ceremony afterwards: the browser's abort service would then cancel the newer one.
  const generation = options.autofill ? ++autofillGeneration : autofillGeneration;
  if (options.autofill && !(await browserSupportsWebAuthnAutofill())) {
    return { ok: false as const, error: { code: 'WEBAUTHN_UNSUPPORTED' as const, message: 'This browser has no passkey autofill' } };
  }
  const begun = await client.beginWebAuthnAuthentication('PASSKEY_LOGIN');
  if (!begun.ok) return begun;
  if (options.autofill && generation !== autofillGeneration) {
    return { ok: false as const, error: { code: 'WEBAUTHN_CANCELLED' as const, message: 'The autofill request was replaced' } };
  }
  const assertion = await ceremony(() => startAuthentication({ optionsJSON: begun.data.requestOptions as never, useBrowserAutofill: options.autofill ?? false }));
  if (!assertion.ok) return assertion;
  return client.loginWithPasskey(assertion.data, begun.data.ceremonyToken);
}

let autofillGeneration = 0;

/** Ends a waiting autofill ceremony (leaving the login page), and one still on its way to the browser. */
export function cancelPasskeyAutofill(): void {
  autofillGeneration++;
  WebAuthnAbortService.cancelCeremony();
}

/** Passkey signup (PASSKEY_SIGNUP_ENABLED): an account whose only credential is a passkey. */
export async function signupWithPasskey(client: TesseraClient, options: { email: string; name?: string }) {
  const begun = await client.beginPasskeySignup(options.email);
  if (!begun.ok) return begun;
  const credential = await ceremony(() => startRegistration({ optionsJSON: begun.data.creationOptions as never }));
  if (!credential.ok) return credential;
  return client.completePasskeySignup(credential.data, { ceremonyToken: begun.data.ceremonyToken, name: options.name ?? null });
}

export type { Result };
