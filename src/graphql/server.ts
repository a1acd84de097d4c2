// The HTTP server: security headers on everything, yoga at /graphql, health and readiness probes, /metrics, GraphiQL's files,
// the web app's static files, a 404 for the rest, and a clean shutdown.
import http from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createGraphQLError, createYoga, type Plugin } from 'graphql-yoga';
import type { App } from '../app.js';
import { pendingMigrations } from '../eventstore/index.js';
import { actorOf, anonymous, resolveCaller, type Caller } from '../application/caller.js';
import type { CookieInstruction, GraphQLContext } from './context.js';
import { deviceCookieMaxAgeSeconds, deviceCookieName, sessionCookieName } from './guards.js';
import { cookiePolicy } from '../http/cookies.js';
import { schema } from './schema.js';
import { hardeningPlugins } from './hardening.js';
import { createClientAddressResolver } from '../security/clientAddress.js';
import { logAccident as logAccidentLine } from '../logger.js';
import { createSecurityHeaders } from '../http/securityHeaders.js';
import { createStaticFiles, defaultWebRoot } from '../http/staticFiles.js';
import { renderLocalGraphiQL, serveGraphiQLAsset } from '../http/graphiql.js';
import { createBodyLimit, type BodyLinger } from '../http/bodyLimit.js';
import { allauthPrefix, createAllauthHandler } from '../rest/index.js';

export interface ServerContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** The server's correlation id for this request (minted by the HTTP server, never the caller's). */
  requestId: string;
}

/**
 * A caller's own X-Request-Id, when it looks like one. It is kept as a labelled claim (`clientRequestId`) beside the
 * server's id and never becomes the correlation id: a caller could otherwise give its requests the id of someone
 * else's and blur the audit trail.
 */
function clientRequestIdOf(header: string | string[] | null | undefined): string | undefined {
  return typeof header === 'string' && /^[A-Za-z0-9_.:-]{8,64}$/.test(header) ? header : undefined;
}

/** `X-Tessera-Client: app`: the client keeps its tokens itself (see GraphQLContext.isAppClient). */
function isAppClient(header: string | null): boolean {
  return header?.trim().toLowerCase() === 'app';
}

const pendingCookies = new WeakMap<Request, CookieInstruction[]>();

/**
 * /metrics with METRICS_TOKEN set: the request must carry it as a bearer token, compared in constant time (over
 * hashes, so the length does not leak either). Without a token (development, test) the scrape is open.
 */
function metricsAuthorized(token: string | undefined, header: string | undefined): boolean {
  if (token === undefined) return true;
  const presented = /^Bearer (\S+)$/.exec(header ?? '')?.[1] ?? '';
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

export function createGraphQLHandler(app: App) {
  const cookies = cookiePolicy(app.config.publicOrigin);
  const clientAddress = createClientAddressResolver(app.config.trustProxy);
  const setCookies: Plugin = {
    onResponse({ request, response }) {
      for (const cookie of pendingCookies.get(request) ?? []) response.headers.append('set-cookie', cookies.serialize(cookie));
    },
  };
  /**
   * Every client carries a device: a browser its `tessera_device` cookie, an app its X-Tessera-Device header (the token
   * it got back in an AuthPayload). A missing or forged one is replaced by a new device, handed out on this response.
   */
  const deviceOf = (headers: Headers, toSet: CookieInstruction[]): { id: string; token: string } => {
    const device = app.deviceTokens.identify(headers.get('x-tessera-device') ?? cookies.read(headers.get('cookie'), deviceCookieName));
    if (device.minted) toSet.push({ name: deviceCookieName, value: device.token, maxAgeSeconds: deviceCookieMaxAgeSeconds });
    return { id: device.deviceId, token: device.token };
  };
  const contextOf = async (request: Request, req: http.IncomingMessage, requestId: string): Promise<GraphQLContext> => {
    const clientRequestId = clientRequestIdOf(request.headers.get('x-request-id'));
    const ip = clientAddress.resolve(req?.socket.remoteAddress, request.headers.get('x-forwarded-for'));
    const userAgent = (request.headers.get('user-agent') ?? '').slice(0, 512);
    const bearer = /^Bearer ([A-Za-z0-9_.-]{16,200})$/.exec(request.headers.get('authorization') ?? '')?.[1];
    const token = bearer ?? cookies.read(request.headers.get('cookie'), sessionCookieName);
    const toSet: CookieInstruction[] = [];
    pendingCookies.set(request, toSet);
    const device = deviceOf(request.headers, toSet);
    const facts = { clientAddress: ip, userAgent, requestId, ...(clientRequestId ? { clientRequestId } : {}), actor: 'anonymous', deviceId: device.id };
    const caller: Caller = token ? await resolveCaller(app, token, facts) : anonymous;
    return {
      deps: app,
      request: { ...facts, actor: actorOf(caller) },
      caller,
      cookies: toSet,
      cookiePolicy: cookies,
      device,
      isAppClient: isAppClient(request.headers.get('x-tessera-client')),
      req,
      signal: request.signal,
    };
  };
  /**
   * An accident (a bug, the database gone) is logged once, with the request's correlation id (the events carry it too);
   * the client sees only the masked message. Yoga's and the guards' own refusals (batching, CSRF, validation rules) are
   * answers, not accidents: GraphQL errors without an original error (checked by name: graphql may load twice).
   */
  const loggedAccidents = new WeakSet<object>();
  const isAccident = (error: unknown): boolean =>
    !(error instanceof Error && error.name === 'GraphQLError' && (error as { originalError?: unknown }).originalError === undefined);
  const logAccident = (error: unknown, requestId: string | undefined): void => {
    if (typeof error === 'object' && error !== null) loggedAccidents.add(error);
    logAccidentLine(app.logger, error, requestId);
  };
  // Runs before yoga's masking (plugins' hooks run in order, the masking plugin after the ones given here).
  const logAccidents: Plugin<GraphQLContext> = {
    onExecute({ args }) {
      return {
        onExecuteDone({ result }) {
          if (!('errors' in result)) return;
          for (const error of result.errors ?? []) {
            const original = error.originalError ?? error;
            if (isAccident(error) && !loggedAccidents.has(original)) logAccident(original, args.contextValue.request.requestId);
          }
        },
      };
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
      // X-Tessera-Client is deliberately not allowed: a page on another origin is a browser and gets cookies, never
      // tokens in the body.
      ? {
        origin: app.config.corsOrigins, credentials: true, methods: ['GET', 'POST'],
        allowedHeaders: ['content-type', 'authorization', 'x-tessera-csrf', 'x-request-id'], exposedHeaders: ['x-request-id', 'x-client-request-id'],
      }
      : false,
    landingPage: false,
    // The edge has already refused any POST body over MAX_REQUEST_BYTES or of unknown length (http/bodyLimit.ts)
    // before a byte of it was read, and Node's parser never reads past Content-Length: yoga's own limit would only
    // pipe every body through one more counting stream (and an AbortController per request). With the guards off
    // (the guards benchmark only) there is no body limit at all, as Config.guards says: yoga's, left on there, made
    // the server without guards slower than the one with them.
    maxRequestBodySize: false,
    maskedErrors: {
      maskError(error, message) {
        if (!isAccident(error)) return error as Error;
        // Logged where the request's id is known (logAccidents, the context); one that never got there is logged here.
        const original = (error as { originalError?: unknown }).originalError ?? error;
        if (!loggedAccidents.has(original as object)) logAccident(original, undefined);
        return createGraphQLError(message);
      },
    },
    logging: false,
    plugins: app.config.guards ? [setCookies, logAccidents, ...hardeningPlugins(app.config)] : [setCookies, logAccidents],
    context: async ({ request, req, requestId }): Promise<GraphQLContext> => {
      try {
        return await contextOf(request, req, requestId);
      } catch (error) {
        logAccident(error, requestId);
        throw error;
      }
    },
  });
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
  /**
   * The directory served at `/` (the reference web app's build); default `web/dist`. Missing: nothing is served. `null`,
   * or SERVE_WEB=false: no static files at all.
   */
  webRoot?: string | null;
  /** How much of a refused body is read before the connection is cut; 8 MiB and 5 s unless a test says otherwise. */
  bodyLinger?: BodyLinger;
}

export async function startServer(app: App, options: ServerOptions = {}): Promise<RunningServer> {
  const yoga = createGraphQLHandler(app);
  const clientAddress = createClientAddressResolver(app.config.trustProxy);
  const securityHeaders = createSecurityHeaders({ publicOrigin: app.config.publicOrigin });
  const webRoot = options.webRoot === undefined ? defaultWebRoot : options.webRoot;
  const staticFiles = app.config.serveWeb && webRoot !== null ? createStaticFiles(webRoot, { spaFallback: true }) : async () => false;
  const bodyLimit = createBodyLimit(app.config.maxRequestBytes, options.bodyLinger);
  // The allauth-compatible REST facade (src/rest/), when ALLAUTH_COMPAT_ENABLED.
  const allauth = app.config.allauthCompatEnabled ? createAllauthHandler(app) : null;
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
    if (path === '/metrics' && app.config.metrics.enabled) {
      if (!metricsAuthorized(app.config.metrics.token, req.headers.authorization)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="metrics"' }).end('{"errors":[{"message":"Unauthorized"}]}');
        req.resume();
        return;
      }
      try {
        const { contentType, body } = await app.metrics.render();
        res.writeHead(200, { 'content-type': contentType }).end(body);
      } catch (error) {
        app.logger.error({ err: { message: (error as Error).message } }, 'metrics unavailable');
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"message":"metrics unavailable"}]}');
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
    if (app.config.guards && req.method === 'POST' && !bodyLimit.admits(req, res)) return;
    if (allauth && path.startsWith(allauthPrefix)) return allauth(req, res, path);
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
    // The correlation id is always the server's. A caller's own id (a frontend's trace) is kept beside it, labelled as
    // the caller's, in the log line and the events, and echoed back so the frontend can pair the two.
    const requestId = randomUUID();
    const clientRequestId = clientRequestIdOf(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    if (clientRequestId) res.setHeader('x-client-request-id', clientRequestId);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      app.logger.info({
        requestId, ...(clientRequestId ? { clientRequestId } : {}), method: req.method, path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6,
        // The address as its keyed pseudonym (the events' metadata.ipHash): one client's requests still group, and
        // the logs hold nothing an erasure would have to reach.
        ipHash: address ? app.personalData.hashes.address(address) : null,
      }, 'request');
    });
    return yoga(req, res, { req, res, requestId });
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
        bodyLimit.destroyLingering();
      }),
  };
}
