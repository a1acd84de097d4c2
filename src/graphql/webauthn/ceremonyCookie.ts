// The cookie that carries an anonymous passkey ceremony (passkey login, passkey signup) between its two requests in a
// browser; app clients get the ceremonyToken in the first payload and send it back instead.
import { WEBAUTHN_CHALLENGE_TTL_SECONDS } from '../../db/webauthnChallenges.js';
import type { GraphQLContext } from '../context.js';
import { forAppClient } from '../guards.js';

/** The base name; over https the browser sees `__Host-tessera_webauthn` (http/cookies.ts). */
export const webauthnCeremonyCookieName = 'tessera_webauthn';

export function setCeremonyCookie(ctx: GraphQLContext, ceremonyToken: string): void {
  ctx.cookies.push({ name: webauthnCeremonyCookieName, value: ceremonyToken, maxAgeSeconds: WEBAUTHN_CHALLENGE_TTL_SECONDS });
}

/**
 * Hands a new ceremony token to the client: as an HttpOnly cookie, and in the payload for app clients only (null for
 * browsers). With the token and an assertion signed on the page, anyone could finish the passkey login elsewhere and
 * hold the session; a script on the page must not be able to read it.
 */
export function handOverCeremonyToken(ctx: GraphQLContext, ceremonyToken: string): string | null {
  setCeremonyCookie(ctx, ceremonyToken);
  return forAppClient(ctx, ceremonyToken);
}

export function clearCeremonyCookie(ctx: GraphQLContext): void {
  ctx.cookies.push({ name: webauthnCeremonyCookieName, value: '', maxAgeSeconds: 0 });
}

export function readCeremonyCookie(ctx: GraphQLContext): { ceremonyCookie: string | undefined } {
  return { ceremonyCookie: ctx.cookiePolicy.read(ctx.req?.headers.cookie, webauthnCeremonyCookieName) };
}
