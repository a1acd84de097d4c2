// The HTTP server: security headers on everything, yoga at /graphql, health and readiness probes, GraphiQL's files,
// the web app's static files, a 404 for the rest, and a clean shutdown.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { createGraphQLError, createYoga, type Plugin } from 'graphql-yoga';
import type { App } from '../app.js';
import { pendingMigrations } from '../eventstore/index.js';
import { actorOf, anonymous, resolveCaller, type Caller } from '../application/caller.js';
import type { CookieInstruction, GraphQLContext } from './context.js';
import { sessionCookieName } from './guards.js';
import { schema } from './schema.js';
import { hardeningPlugins } from './hardening.js';
import { createClientAddressResolver } from '../security/clientAddress.js';
import { currentRequestScope, runInRequestScope } from '../security/requestScope.js';
import { createSecurityHeaders } from '../http/securityHeaders.js';
import { createStaticFiles, defaultWebRoot } from '../http/staticFiles.js';
import { renderLocalGraphiQL, serveGraphiQLAsset } from '../http/graphiql.js';

export interface ServerContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
}

function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return safeDecode(v.join('='));
  }
  return undefined;
}

function isLocalhost(origin: string): boolean {
  return /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(origin);
}

function serializeCookie(c: CookieInstruction, secure: boolean): string {
  return [
    `${c.name}=${encodeURIComponent(c.value)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    secure ? 'Secure' : '',
    `Max-Age=${c.maxAgeSeconds}`,
  ].filter(Boolean).join('; ');
}

const pendingCookies = new WeakMap<Request, CookieInstruction[]>();

export function createGraphQLHandler(app: App) {
  const secureCookies = !isLocalhost(app.config.publicOrigin);
  const clientAddress = createClientAddressResolver(app.config.trustProxy);
  const setCookies: Plugin = {
    onResponse({ request, response }) {
      for (const cookie of pendingCookies.get(request) ?? []) response.headers.append('set-cookie', serializeCookie(cookie, secureCookies));
    },
  };
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // Served from our own origin (see http/graphiql.ts), never in production.
    graphiql: app.config.isProduction ? false : { title: 'Tessera GraphiQL' },
    renderGraphiQL: renderLocalGraphiQL,
    // One operation per request: an array of a hundred logins is one request to a proxy but a hundred to us.
    batching: false,
    cors: app.config.corsOrigins.length > 0
      ? { origin: app.config.corsOrigins, credentials: true, methods: ['GET', 'POST'], allowedHeaders: ['content-type', 'authorization', 'x-tessera-csrf', 'x-request-id'] }
      : false,
    landingPage: false,
    maskedErrors: {
      maskError(error, message) {
        const original = (error as { originalError?: unknown }).originalError;
        // Yoga's and the guards' own refusals (batching, CSRF, validation rules) are answers, not accidents: they are
        // GraphQL errors without an original error, and are passed through (checked by name: graphql may load twice).
        if (error instanceof Error && error.name === 'GraphQLError' && original === undefined) return error;
        // Logged with what correlates it (the request id is in the event metadata too); the client sees only `message`.
        // Only what explains the failure: a driver's error object can carry the statement's parameters.
        const e = (original ?? error) as { name?: string; message?: string; code?: unknown; stack?: string };
        app.logger.error({ err: { name: e.name, message: e.message, code: e.code, stack: e.stack }, requestId: currentRequestScope()?.requestId }, 'unexpected error');
        return createGraphQLError(message);
      },
    },
    logging: false,
    plugins: app.config.guards ? [setCookies, ...hardeningPlugins(app.config)] : [setCookies],
    context: async ({ request, req }): Promise<GraphQLContext> => {
      const requestId = currentRequestScope()?.requestId ?? randomUUID();
      const ip = clientAddress.resolve(req?.socket.remoteAddress, request.headers.get('x-forwarded-for'));
      const userAgent = (request.headers.get('user-agent') ?? '').slice(0, 512);
      const bearer = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(request.headers.get('authorization') ?? '')?.[1];
      const token = bearer ?? readCookie(request.headers.get('cookie'), sessionCookieName);
      const cookies: CookieInstruction[] = [];
      pendingCookies.set(request, cookies);
      const facts = { clientAddress: ip, userAgent, requestId, actor: 'anonymous' };
      const caller: Caller = token ? await resolveCaller(app, token, facts) : anonymous;
      return { deps: app, request: { ...facts, actor: actorOf(caller) }, caller, cookies, req, signal: request.signal };
    },
  });
}

/**
 * Refuses a body larger than MAX_REQUEST_BYTES before yoga reads a byte of it, by its Content-Length (413). A POST
 * without one (a chunked body of unknown size) is refused with 411: counting its bytes would mean reading it first.
 */
function withinBodyLimit(req: http.IncomingMessage, res: http.ServerResponse, maxBytes: number): boolean {
  const declared = req.headers['content-length'];
  const refuse = (status: number, message: string): false => {
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ errors: [{ message }] }));
    req.resume();
    return false;
  };
  if (declared === undefined) return refuse(411, 'Content-Length required');
  if (!/^\d+$/.test(declared) || Number(declared) > maxBytes) return refuse(413, 'Request body too large');
  return true;
}

export interface RunningServer {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

function notFound(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'Not found' }] }));
  req.resume();
}

export interface ServerOptions {
  port?: number;
  host?: string;
  /** The directory served at `/` (the reference web app's build); default `web/dist`. Missing: nothing is served. */
  webRoot?: string;
}

export async function startServer(app: App, options: ServerOptions = {}): Promise<RunningServer> {
  const yoga = createGraphQLHandler(app);
  const clientAddress = createClientAddressResolver(app.config.trustProxy);
  const securityHeaders = createSecurityHeaders({ publicOrigin: app.config.publicOrigin });
  const staticFiles = createStaticFiles(options.webRoot ?? defaultWebRoot);
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    securityHeaders.all(req, res);
    // GraphQL answers carry session tokens and personal data (RFC 6749 §5.1): no browser or proxy may keep them. A
    // route whose content is public and versioned (static assets) says otherwise for itself.
    res.setHeader('cache-control', 'no-store');
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      try {
        await app.db.query('select 1');
        const pending = await pendingMigrations(app.db);
        const ready = pending.length === 0;
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ready ? 'ready' : 'migrating', pending }));
      } catch {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"database unavailable"}');
      }
      return;
    }
    if (path === '/webauthn-test.html' && !app.config.isProduction) {
      // A blank page at the server's own origin, so a development browser (and the browser tests) can run WebAuthn
      // ceremonies on a configured origin. Never served in production.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><html><head><title>Tessera WebAuthn test page</title></head><body></body></html>');
      return;
    }
    if (app.config.guards && req.method === 'POST' && !withinBodyLimit(req, res, app.config.maxRequestBytes)) return;
    if (path !== '/graphql') {
      if (!app.config.isProduction && (await serveGraphiQLAsset(req, res, path))) return;
      // The reference web app plugs in here: its build directory is served at `/`.
      if (await staticFiles(req, res, path)) return;
      return notFound(req, res);
    }
    // The request yoga answers with the GraphiQL page (its own test in shouldRenderGraphiQL).
    if (!app.config.isProduction && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      securityHeaders.graphiqlPage(req, res);
    }
    const forwarded = req.headers['x-forwarded-for'];
    const address = clientAddress.resolve(req.socket.remoteAddress, Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? null);
    // A caller's own id is kept when it looks like one (so a frontend can correlate), otherwise a fresh one.
    const offered = req.headers['x-request-id'];
    const requestId = typeof offered === 'string' && /^[A-Za-z0-9_.:-]{8,64}$/.test(offered) ? offered : randomUUID();
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      app.logger.info({ requestId, method: req.method, path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6, ip: address }, 'request');
    });
    return runInRequestScope({ clientAddress: address, requestId }, () => yoga(req, res, { req, res }));
  });
  server.keepAliveTimeout = 5000;
  const port = options.port ?? app.config.port;
  const host = options.host ?? app.config.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  return {
    server,
    url,
    // Stop accepting, let in-flight requests finish, then drop idle keep-alive sockets.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** An attacker's cookie is data, not an exception: a value that does not decode is treated as absent. */
function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
