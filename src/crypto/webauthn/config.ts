// WebAuthn relying-party configuration: the RP id, its name and the exact origins a clientDataJSON may carry,
// checked once at startup.

export interface WebAuthnConfig {
  /** Relying party id: a registrable domain (or `localhost`), never a URL. */
  readonly rpId: string;
  readonly rpName: string;
  /** Exact origins (scheme://host[:port]) a clientDataJSON may carry. */
  readonly origins: readonly string[];
  readonly allowInsecureOrigin: boolean;
  /** WEBAUTHN_ATTESTATION: ask authenticators for `direct` attestation (default `none`). */
  readonly attestation?: 'none' | 'direct';
  /** WEBAUTHN_ATTESTATION_ROOTS: trusted attestation root certificates (PEM). */
  readonly attestationRoots?: readonly string[];
}

export interface LoadWebAuthnConfigOptions {
  /** The origin the server itself listens on (e.g. built from PORT); added to the default origin list. */
  readonly defaultOrigin?: string;
}

export class WebAuthnConfigError extends Error {
  override readonly name = 'WebAuthnConfigError';
}

const DEFAULT_ORIGIN = 'http://localhost:4000';
// Browsers treat these hosts as secure contexts over plain http, so WebAuthn works there without TLS.
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Reads WEBAUTHN_RP_ID, WEBAUTHN_RP_NAME, WEBAUTHN_ORIGINS and WEBAUTHN_ALLOW_INSECURE_ORIGIN.
 * Throws WebAuthnConfigError at startup rather than letting a misconfigured origin list silently accept
 * assertions phished through another site or sent over plain http.
 */
export function loadWebAuthnConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadWebAuthnConfigOptions = {},
): WebAuthnConfig {
  const rpId = (env.WEBAUTHN_RP_ID ?? '').trim().toLowerCase() || 'localhost';
  const rpName = (env.WEBAUTHN_RP_NAME ?? '').trim() || 'Tessera';
  const allowInsecureOrigin = ['true', '1'].includes((env.WEBAUTHN_ALLOW_INSECURE_ORIGIN ?? '').trim().toLowerCase());
  assertValidRpId(rpId);

  const listed = (env.WEBAUTHN_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  const fallback = [DEFAULT_ORIGIN, ...(options.defaultOrigin === undefined ? [] : [options.defaultOrigin])];
  const requested = listed.length > 0 ? listed : fallback;

  const origins = [...new Set(requested.map((origin) => normaliseOrigin(origin, rpId, allowInsecureOrigin)))];
  return { rpId, rpName, origins, allowInsecureOrigin };
}

function assertValidRpId(rpId: string): void {
  // An RP ID is a bare host name; a scheme, port or path here is a configuration mistake that would make
  // every ceremony fail with a confusing RP_ID_MISMATCH.
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId) || rpId.length > 253) {
    throw new WebAuthnConfigError(`WEBAUTHN_RP_ID "${rpId}" is not a host name (no scheme, port or path)`);
  }
}

function normaliseOrigin(raw: string, rpId: string, allowInsecureOrigin: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebAuthnConfigError(`WebAuthn origin "${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebAuthnConfigError(`WebAuthn origin "${raw}" must use https (or http on localhost)`);
  }
  // clientDataJSON carries a bare origin; a path or query here would never match anything.
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new WebAuthnConfigError(`WebAuthn origin "${raw}" must be scheme://host[:port] with no path`);
  }
  const host = url.hostname;
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(host) && !allowInsecureOrigin) {
    throw new WebAuthnConfigError(
      `WebAuthn origin "${raw}" uses plain http on a non-localhost host; use https or set WEBAUTHN_ALLOW_INSECURE_ORIGIN=true`,
    );
  }
  // WebAuthn §5.1.3: the RP ID must be the origin's effective domain or a registrable suffix of it.
  if (host !== rpId && !host.endsWith(`.${rpId}`)) {
    throw new WebAuthnConfigError(`WebAuthn origin "${raw}" is not on RP ID "${rpId}" or one of its subdomains`);
  }
  return url.origin;
}
