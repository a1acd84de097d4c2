// The facade's side of HTTP: which client kind is calling, the token it presents (the session cookie for `browser`,
// X-Session-Token for `app`), allauth's CSRF double submit for browsers, JSON bodies within MAX_REQUEST_BYTES, and
// the cookies an answer sets.
import type http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { App } from '../app.js';
import { actorOf, type Caller } from '../application/caller.js';
import type { RequestFacts } from '../application/request.js';
import { deviceCookieMaxAgeSeconds, deviceCookieName, sessionCookieName } from '../graphql/guards.js';
import { webauthnCeremonyCookieName } from '../graphql/webauthn/ceremonyCookie.js';
import { cookiePolicy } from '../http/cookies.js';

export type ClientKind = 'browser' | 'app';

/** allauth's browser client reads this cookie from `document.cookie` and echoes it in X-CSRFToken (Django's names). */
export const csrfCookieName = 'csrftoken';
export const csrfHeaderName = 'x-csrftoken';
export const sessionTokenHeaderName = 'x-session-token';

export interface RestAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** One request through the facade: what the handlers read and what they leave for the answer. */
export interface RestExchange {
  app: App;
  client: ClientKind;
  req: http.IncomingMessage;
  query: URLSearchParams;
  /** The token the client presented (cookie or X-Session-Token), if any. */
  presentedToken: string | undefined;
  caller: Caller;
  request: RequestFacts;
  body: Record<string, unknown>;
  /** Set-Cookie values for the answer (browser clients only). */
  cookies: string[];
  /** `app` clients: a token issued during this request, answered in meta.session_token. */
  issuedToken: string | undefined;
}

// Session and pending-login tokens (base64url), and the signed tokens of a pending VERIFY_EMAIL or PASSWORD_RESET_BY_CODE flow (dotted).
const tokenPattern = /^[A-Za-z0-9_.-]{16,200}$/;

export function readCookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return undefined; // an attacker's cookie is data, not an exception
      }
    }
  }
  return undefined;
}

/** Our own cookies (session, ceremony, device) are named and written as GraphQL's are: `__Host-` over https. */
function policyOf(app: App) {
  return cookiePolicy(app.config.publicOrigin);
}

/** The session (or pending login) token: the cookie for browsers, the header for apps; anything malformed is absent. */
export function presentedTokenOf(app: App, req: http.IncomingMessage, client: ClientKind): string | undefined {
  const raw = client === 'app' ? req.headers[sessionTokenHeaderName] : policyOf(app).read(req.headers.cookie, sessionCookieName);
  const token = Array.isArray(raw) ? raw[0] : raw;
  return token && tokenPattern.test(token) ? token : undefined;
}

export function ceremonyTokenOf(x: RestExchange): string | undefined {
  const token = x.client === 'app' ? x.presentedToken : policyOf(x.app).read(x.req.headers.cookie, webauthnCeremonyCookieName);
  return token && tokenPattern.test(token) ? token : undefined;
}

/**
 * The device of the request, as GraphQL reads it: a browser's device cookie, an app's X-Tessera-Device header. A
 * missing or forged one is a new device; a browser gets its cookie on this answer.
 */
export function deviceOf(app: App, req: http.IncomingMessage, client: ClientKind, cookies: string[]): string {
  const header = req.headers['x-tessera-device'];
  const presented = client === 'app' ? (Array.isArray(header) ? header[0] : header) : policyOf(app).read(req.headers.cookie, deviceCookieName);
  const device = app.deviceTokens.identify(presented);
  if (device.minted && client === 'browser') cookies.push(policyOf(app).serialize({ name: deviceCookieName, value: device.token, maxAgeSeconds: deviceCookieMaxAgeSeconds }));
  return device.deviceId;
}

interface CookieOptions {
  httpOnly: boolean;
  maxAgeSeconds: number;
  secure: boolean;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${encodeURIComponent(value)}`, 'Path=/', options.httpOnly ? 'HttpOnly' : '', 'SameSite=Lax', options.secure ? 'Secure' : '', `Max-Age=${options.maxAgeSeconds}`,
  ].filter(Boolean).join('; ');
}

function secureCookies(app: App): boolean {
  return !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(app.config.publicOrigin);
}

/** The session cookie (browsers) or meta.session_token (apps) for a token a use case issued. */
export function handOverToken(x: RestExchange, token: string, maxAgeSeconds: number): void {
  if (x.client === 'app') x.issuedToken = token;
  else x.cookies.push(policyOf(x.app).serialize({ name: sessionCookieName, value: token, maxAgeSeconds }));
}

export function clearSessionToken(x: RestExchange): void {
  x.caller = { kind: 'anonymous' };
  x.request = { ...x.request, actor: actorOf(x.caller) };
  if (x.client === 'browser') x.cookies.push(policyOf(x.app).serialize({ name: sessionCookieName, value: '', maxAgeSeconds: 0 }));
}

/** An anonymous passkey ceremony's token: an HttpOnly cookie for browsers, meta.session_token for apps. */
export function handOverCeremonyToken(x: RestExchange, token: string, maxAgeSeconds: number): void {
  if (x.client === 'app') x.issuedToken = token;
  else x.cookies.push(policyOf(x.app).serialize({ name: webauthnCeremonyCookieName, value: token, maxAgeSeconds }));
}

export function clearCeremonyToken(x: RestExchange): void {
  if (x.client === 'browser') x.cookies.push(policyOf(x.app).serialize({ name: webauthnCeremonyCookieName, value: '', maxAgeSeconds: 0 }));
}

// ---------- CSRF (browser clients) ----------

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isUnsafe(method: string): boolean {
  return !safeMethods.has(method);
}

function sameValue(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * allauth's double submit: an unsafe request carries X-CSRFToken equal to the `csrftoken` cookie. A foreign page can
 * make the browser send the cookie but can neither read it nor set the header. An Origin header, when the browser
 * sends one, must be ours or a configured CORS origin (what Django checks on https too).
 */
export function csrfRefusal(app: App, req: http.IncomingMessage): string | null {
  const origin = req.headers.origin;
  if (origin && origin !== app.config.publicOrigin && !app.config.corsOrigins.includes(origin)) return 'Origin checking failed: the request comes from another site.';
  const cookie = readCookie(req, csrfCookieName);
  const header = req.headers[csrfHeaderName];
  const sent = Array.isArray(header) ? header[0] : header;
  if (!cookie || !sent) return 'CSRF token missing: send the csrftoken cookie\'s value in X-CSRFToken.';
  if (!sameValue(cookie, sent)) return 'CSRF token incorrect.';
  return null;
}

/** Set on a browser's first answer (allauth clients fetch /config or /auth/session first), readable by page scripts. */
export function ensureCsrfCookie(x: { app: App; req: http.IncomingMessage; cookies: string[] }): void {
  const current = readCookie(x.req, csrfCookieName);
  if (current && /^[A-Za-z0-9_-]{32,64}$/.test(current)) return;
  x.cookies.push(serializeCookie(csrfCookieName, randomBytes(32).toString('base64url'), { httpOnly: false, maxAgeSeconds: 365 * 86400, secure: secureCookies(x.app) }));
}

// ---------- bodies ----------

export class BodyError extends Error {
  constructor(readonly status: 400 | 413, message: string) {
    super(message);
  }
}

/** A JSON object body, refused past MAX_REQUEST_BYTES (declared or counted). No body is an empty object. */
export async function readJsonBody(req: http.IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 'NaN');
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new BodyError(413, 'Request body too large.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyError(413, 'Request body too large.');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BodyError(400, 'The body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BodyError(400, 'The body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

export function send(res: http.ServerResponse, answer: RestAnswer, cookies: string[]): void {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json', ...answer.headers };
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
}
