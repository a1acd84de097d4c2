// The transport's side of sessions: cookies, and taking on a token a use case has just issued.
import { actorOf, resolveCaller } from '../application/caller.js';
import type { IssuedToken } from '../application/sessions.js';
import type { GraphQLContext } from './context.js';

export const sessionCookieName = 'tessera_session';

export function setSessionCookie(ctx: GraphQLContext, token: string, maxAgeSeconds: number): void {
  ctx.cookies.push({ name: sessionCookieName, value: token, maxAgeSeconds });
}

export function clearSessionCookie(ctx: GraphQLContext): void {
  ctx.cookies.push({ name: sessionCookieName, value: '', maxAgeSeconds: 0 });
  ctx.caller = { kind: 'anonymous' };
}

/**
 * Sets the cookie for a token a use case issued and makes it this request's caller, so the payload's authState shows
 * the new state. App clients get the token back in the payload.
 */
export async function adoptToken(ctx: GraphQLContext, issued: IssuedToken): Promise<{ sessionToken: string; ctx: GraphQLContext }> {
  setSessionCookie(ctx, issued.token, issued.expiresInSeconds);
  ctx.caller = await resolveCaller(ctx.deps, issued.token, ctx.request);
  ctx.request = { ...ctx.request, actor: actorOf(ctx.caller) };
  return { sessionToken: issued.token, ctx };
}
