// The transport's side of sessions: cookies, and taking on a token a use case has just issued.
import { actorOf, resolveCaller } from '../application/caller.js';
import type { IssuedToken } from '../application/sessions.js';
import type { GraphQLContext } from './context.js';

/** The base name; over https the browser sees `__Host-tessera_session` (http/cookies.ts). */
export const sessionCookieName = 'tessera_session';

/** The device cookie: long-lived (400 days, the most browsers keep a cookie), HttpOnly, signed (crypto/deviceTokens.ts). */
export const deviceCookieName = 'tessera_device';
export const deviceCookieMaxAgeSeconds = 400 * 86_400;

export function setSessionCookie(ctx: GraphQLContext, token: string, maxAgeSeconds: number): void {
  ctx.cookies.push({ name: sessionCookieName, value: token, maxAgeSeconds });
}

export function clearSessionCookie(ctx: GraphQLContext): void {
  ctx.cookies.push({ name: sessionCookieName, value: '', maxAgeSeconds: 0 });
  ctx.caller = { kind: 'anonymous' };
}

/**
 * The one rule for a secret that could also go in a response body (a session token, a ceremony token): an app client
 * (`X-Tessera-Client: app`) gets it, everyone else null. A browser holds it as an HttpOnly cookie; putting it in the
 * body as well would hand it to any script on the page, which is what HttpOnly is there to prevent.
 */
export function forAppClient(ctx: GraphQLContext, secret: string): string | null {
  return ctx.isAppClient ? secret : null;
}

/**
 * Sets the cookie for a token a use case issued and makes it this request's caller, so the payload's authState shows
 * the new state. App clients get the token back in the payload; for browsers `sessionToken` is null.
 */
export async function adoptToken(ctx: GraphQLContext, issued: IssuedToken): Promise<{ sessionToken: string | null; ctx: GraphQLContext }> {
  setSessionCookie(ctx, issued.token, issued.expiresInSeconds);
  ctx.caller = await resolveCaller(ctx.deps, issued.token, ctx.request);
  ctx.request = { ...ctx.request, actor: actorOf(ctx.caller) };
  return { sessionToken: forAppClient(ctx, issued.token), ctx };
}
