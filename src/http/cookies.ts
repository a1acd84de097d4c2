// The server's cookies (the session, the WebAuthn ceremony): their names on the wire, how they are written and read.
// Resolvers speak of a cookie by its base name (`tessera_session`); this file alone knows what the browser sees.

/** What a resolver asks for; the server writes it after the operation. */
export interface CookieInstruction {
  /** The base name (`tessera_session`), never the prefixed one. */
  name: string;
  value: string;
  maxAgeSeconds: number;
}

export interface CookiePolicy {
  /** The name on the wire of a cookie with this base name. */
  nameOf(base: string): string;
  /** The Set-Cookie value for an instruction. */
  serialize(cookie: CookieInstruction): string;
  /** The value of a cookie with this base name in a Cookie header; only the name on the wire counts. */
  read(header: string | null | undefined, base: string): string | undefined;
}

function isLocalhost(origin: string): boolean {
  return /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(origin);
}

/**
 * Over https the cookies carry the `__Host-` prefix: a browser accepts such a cookie only with `Secure`, `Path=/` and no
 * `Domain`, so neither a sibling subdomain nor a plain-http page on our host can plant or shadow the session cookie
 * (session fixation through a cookie set for `.example.com`). The unprefixed name is then ignored on input, or such a
 * planted cookie would still be read. On a plain-http localhost the prefix cannot be used (it requires `Secure`).
 */
export function cookiePolicy(publicOrigin: string): CookiePolicy {
  const https = publicOrigin.startsWith('https://');
  const secure = !isLocalhost(publicOrigin);
  const nameOf = (base: string): string => (https ? `__Host-${base}` : base);
  return {
    nameOf,
    serialize: (c) => [
      `${nameOf(c.name)}=${encodeURIComponent(c.value)}`,
      'Path=/',
      'HttpOnly',
      'SameSite=Lax',
      secure ? 'Secure' : '',
      `Max-Age=${c.maxAgeSeconds}`,
    ].filter(Boolean).join('; '),
    read: (header, base) => readCookie(header, nameOf(base)),
  };
}

function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return safeDecode(v.join('='));
  }
  return undefined;
}

/** An attacker's cookie is data, not an exception: a value that does not decode is treated as absent. */
function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
