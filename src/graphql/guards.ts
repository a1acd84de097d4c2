// The transport's side of sessions: cookies, and taking on a token a use case has just issued.
import { Kind, type GraphQLResolveInfo } from 'graphql';
import { actorOf, resolveCaller, type Caller } from '../application/caller.js';
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

/** Tokens adopted by a request whose caller has not been read back yet (adoptToken with `info`). */
const adopted = new WeakMap<GraphQLContext, string>();

async function becomeCaller(ctx: GraphQLContext, token: string): Promise<void> {
  ctx.caller = await resolveCaller(ctx.deps, token, ctx.request);
  ctx.request = { ...ctx.request, actor: actorOf(ctx.caller) };
}

/**
 * Whether the operation goes on after this root field (GraphQL runs a mutation's root fields one after the other): a
 * later field acts as the new caller. Fragments at the root are not looked into: then it is assumed to.
 */
function fieldsAfter(info: GraphQLResolveInfo): boolean {
  const root = info.operation.selectionSet.selections;
  const index = root.findIndex((s) => s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === info.path.key);
  return index === -1 || index < root.length - 1;
}

/**
 * Sets the cookie for a token a use case issued and makes it this request's caller, so the payload's authState shows
 * the new state. App clients get the token back in the payload; for browsers `sessionToken` is null. With `info`, and
 * no root field after this one, the caller is read back only if the payload asks for it (callerOf): a client that
 * wants just the token costs no read of what was just written.
 */
export async function adoptToken(ctx: GraphQLContext, issued: IssuedToken, info?: GraphQLResolveInfo): Promise<{ sessionToken: string | null; ctx: GraphQLContext }> {
  setSessionCookie(ctx, issued.token, issued.expiresInSeconds);
  if (info && !fieldsAfter(info)) adopted.set(ctx, issued.token);
  else await becomeCaller(ctx, issued.token);
  return { sessionToken: forAppClient(ctx, issued.token), ctx };
}

/** The caller, after any token this request adopted (what a payload's authState shows). */
export async function callerOf(ctx: GraphQLContext): Promise<Caller> {
  const token = adopted.get(ctx);
  if (token !== undefined) {
    adopted.delete(ctx);
    await becomeCaller(ctx, token);
  }
  return ctx.caller;
}
