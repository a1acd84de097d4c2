// The cookie that carries an anonymous passkey ceremony (passkey login, passkey signup) between its two requests in a
// browser; app clients send the ceremonyToken from the first payload instead.
import { WEBAUTHN_CHALLENGE_TTL_SECONDS } from '../../db/webauthnChallenges.js';
import type { GraphQLContext } from '../context.js';

export const webauthnCeremonyCookieName = 'tessera_webauthn';

export function setCeremonyCookie(ctx: GraphQLContext, ceremonyToken: string): void {
  ctx.cookies.push({ name: webauthnCeremonyCookieName, value: ceremonyToken, maxAgeSeconds: WEBAUTHN_CHALLENGE_TTL_SECONDS });
}

export function clearCeremonyCookie(ctx: GraphQLContext): void {
  ctx.cookies.push({ name: webauthnCeremonyCookieName, value: '', maxAgeSeconds: 0 });
}

export function readCeremonyCookie(ctx: GraphQLContext): { ceremonyCookie: string | undefined } {
  const header = ctx.req?.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === webauthnCeremonyCookieName) return { ceremonyCookie: safeDecode(v.join('=')) };
  }
  return { ceremonyCookie: undefined };
}

/** An attacker's cookie is data, not an exception: a value that does not decode is treated as absent. */
function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
