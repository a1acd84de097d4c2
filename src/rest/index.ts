// The allauth-headless-compatible REST facade: /_allauth/{browser,app}/v1/… and its OpenAPI document at
// /_allauth/openapi.json. A second thin transport over the application layer, beside GraphQL (DESIGN.md §1).
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { App } from '../app.js';
import { actorOf, anonymous, resolveCaller, type Caller } from '../application/caller.js';
import { DomainError } from '../domain/shared/errors.js';
import { createClientAddressResolver } from '../security/clientAddress.js';
import { logAccident } from '../logger.js';
import {
  BodyError, csrfRefusal, deviceOf, ensureCsrfCookie, isUnsafe, presentedTokenOf, readJsonBody, send, type ClientKind, type RestAnswer, type RestExchange,
} from './http.js';
import { openApiDocument } from './openapi.js';
import { createPasskeySignupOptionsCache } from './passkeySignupOptions.js';
import { errorAnswer } from './responses.js';
import { allauthRoutes, type Route } from './routes.js';

export const allauthPrefix = '/_allauth/';
const openApiPath = '/_allauth/openapi.json';
const routePattern = /^\/_allauth\/(browser|app)\/v1(\/[a-z0-9/_-]*?)\/?$/;

export type AllauthHandler = (req: http.IncomingMessage, res: http.ServerResponse, path: string) => Promise<void>;

export function createAllauthHandler(app: App): AllauthHandler {
  const routes = allauthRoutes(createPasskeySignupOptionsCache(app.clock));
  const byPath = new Map<string, Route[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  let documentJson: string | undefined;
  const clientAddress = createClientAddressResolver(app.config.trustProxy);

  function cors(req: http.IncomingMessage, res: http.ServerResponse): void {
    const origin = req.headers.origin;
    if (!origin || !app.config.corsOrigins.includes(origin)) return;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'Origin');
  }

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, path: string, requestId: string, address: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === openApiPath && method === 'GET') {
      documentJson ??= JSON.stringify(openApiDocument(routes));
      res.writeHead(200, { 'content-type': 'application/json' }).end(documentJson);
      return;
    }
    const match = routePattern.exec(path);
    const candidates = match ? byPath.get(match[2]!) : undefined;
    if (!match || !candidates) return send(res, { status: 404, body: { status: 404 } }, []);
    const client = match[1] as ClientKind;
    if (method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', candidates.map((r) => r.method).join(', '));
      res.setHeader('access-control-allow-headers', 'content-type, x-csrftoken, x-session-token, x-request-id');
      res.writeHead(204).end();
      return;
    }
    const route = candidates.find((r) => r.method === method);
    if (!route) return send(res, { status: 405, body: { status: 405 }, headers: { allow: candidates.map((r) => r.method).join(', ') } }, []);
    const cookies: string[] = [];
    if (client === 'browser') {
      ensureCsrfCookie({ app, req, cookies });
      const refusal = isUnsafe(method) ? csrfRefusal(app, req) : null;
      if (refusal) {
        req.resume();
        return send(res, { status: 403, body: { status: 403, errors: [{ message: refusal, code: 'csrf_failed' }] } }, cookies);
      }
    }
    let body: Record<string, unknown> = {};
    try {
      if (method !== 'GET') body = await readJsonBody(req, app.config.maxRequestBytes);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      return send(res, { status: error.status, body: { status: error.status, errors: [{ message: error.message, code: 'invalid' }] } }, cookies);
    }
    const offered = req.headers['x-request-id'];
    const clientRequestId = typeof offered === 'string' && /^[A-Za-z0-9_.:-]{8,64}$/.test(offered) ? offered : undefined;
    const facts = {
      clientAddress: address, userAgent: (req.headers['user-agent'] ?? '').slice(0, 512), requestId, ...(clientRequestId ? { clientRequestId } : {}),
      actor: 'anonymous', deviceId: deviceOf(app, req, client, cookies),
    };
    const presentedToken = presentedTokenOf(app, req, client);
    const caller: Caller = presentedToken ? await resolveCaller(app, presentedToken, facts) : anonymous;
    const x: RestExchange = {
      app, client, req, query: new URL(req.url ?? '/', 'http://localhost').searchParams, presentedToken, caller,
      request: { ...facts, actor: actorOf(caller) }, body, cookies, issuedToken: undefined,
    };
    let result: RestAnswer;
    try {
      result = await route.handle(x);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      result = await errorAnswer(x, error, route.errors);
    }
    send(res, result, x.cookies);
  }

  return async (req, res, path) => {
    const forwarded = req.headers['x-forwarded-for'];
    const address = clientAddress.resolve(req.socket.remoteAddress, Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? null);
    // The server's own id, as on every other path: a caller's X-Request-Id is kept beside it (clientRequestId), never as it.
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    cors(req, res);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      app.logger.info({ requestId, method: req.method, path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6, ipHash: address ? app.personalData.hashes.address(address) : null }, 'request');
    });
    await answer(req, res, path, requestId, address).catch((error: unknown) => {
      logAccident(app.logger, error, requestId);
      if (!res.headersSent) send(res, { status: 500, body: { status: 500, errors: [{ message: 'Unexpected error.', code: 'internal_error' }] } }, []);
    });
  };
}
