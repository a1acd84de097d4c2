// Clients of the allauth-compatible REST facade, like allauth's own: a `browser` with a cookie jar that echoes the
// `csrftoken` cookie in X-CSRFToken (as allauth's SPA reads it from document.cookie), and an `app` that keeps
// meta.session_token and sends it as X-Session-Token. EVERY answer is validated against the facade's own OpenAPI
// document (/_allauth/openapi.json), by path template, method and status: an undocumented status fails the test too.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { TestServer } from './server.js';

export interface RestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RestOptions {
  /** Browser clients: send X-CSRFToken (default true). */
  csrf?: boolean;
  headers?: Record<string, string>;
  /** Skip the document check (only for answers outside the facade's routes, such as a 404 on an unknown path). */
  unchecked?: boolean;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components?: object;
}

const documents = new WeakMap<TestServer, Promise<OpenApiValidator>>();

export class OpenApiValidator {
  private readonly ajv = new Ajv2020({ strict: false, validateSchema: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {}

  /** Throws unless `body` is what the document says `method path` answers with `status`. */
  check(method: string, url: string, status: number, body: unknown): void {
    const path = new URL(url).pathname.replace(/^\/_allauth\/(browser|app)\/v1/, '/_allauth/{client}/v1').replace(/\/$/, '');
    const key = `${method} ${path} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      const operation = this.document.paths[path]?.[method.toLowerCase()];
      if (!operation) throw new Error(`${method} ${path} is not in the OpenAPI document`);
      const schema = operation.responses[String(status)]?.content?.['application/json']?.schema;
      if (!schema) throw new Error(`${method} ${path} answered ${status}, which the OpenAPI document does not list: ${JSON.stringify(body)}`);
      validate = this.ajv.compile({ ...schema, components: this.document.components });
      this.compiled.set(key, validate);
    }
    if (!validate(body)) throw new Error(`${key}: the answer does not match the OpenAPI document: ${JSON.stringify(validate.errors)}\n${JSON.stringify(body)}`);
  }
}

export function validatorFor(server: TestServer): Promise<OpenApiValidator> {
  let validator = documents.get(server);
  if (!validator) {
    validator = fetch(`${server.url}/_allauth/openapi.json`).then(async (res) => new OpenApiValidator((await res.json()) as OpenApiDocument));
    documents.set(server, validator);
  }
  return validator;
}

export class AllauthClient {
  /** Browser: the cookie jar. */
  readonly cookies = new Map<string, string>();
  /** App: the token from the last meta.session_token. */
  sessionToken: string | undefined;

  constructor(readonly server: TestServer, readonly kind: 'browser' | 'app') {}

  url(path: string): string {
    return `${this.server.url}/_allauth/${this.kind}/v1${path}`;
  }

  async request<T = any>(method: string, path: string, body?: unknown, options: RestOptions = {}): Promise<RestResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.kind === 'browser') {
      if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ');
      const csrf = this.cookies.get('csrftoken');
      if (csrf && options.csrf !== false) headers['x-csrftoken'] = csrf;
    } else if (this.sessionToken && !headers['x-session-token']) {
      headers['x-session-token'] = this.sessionToken;
    }
    const url = this.url(path);
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const setCookies = res.headers.getSetCookie();
    if (this.kind === 'app' && setCookies.length > 0) throw new Error(`an app client got cookies: ${setCookies.join(' | ')}`);
    for (const setCookie of setCookies) {
      const [pair] = setCookie.split(';');
      const [name, ...value] = pair!.split('=');
      const decoded = decodeURIComponent(value.join('='));
      if (/Max-Age=0/.test(setCookie) || decoded === '') this.cookies.delete(name!);
      else this.cookies.set(name!, decoded);
    }
    const json = (await res.json()) as T & { meta?: { session_token?: string } };
    if (!options.unchecked) (await validatorFor(this.server)).check(method, url, res.status, json);
    if (this.kind === 'app' && json.meta?.session_token) this.sessionToken = json.meta.session_token;
    return { status: res.status, headers: res.headers, body: json };
  }

  get<T = any>(path: string, options?: RestOptions): Promise<RestResponse<T>> {
    return this.request<T>('GET', path, undefined, options);
  }

  post<T = any>(path: string, body?: unknown, options?: RestOptions): Promise<RestResponse<T>> {
    return this.request<T>('POST', path, body ?? {}, options);
  }

  put<T = any>(path: string, body?: unknown, options?: RestOptions): Promise<RestResponse<T>> {
    return this.request<T>('PUT', path, body ?? {}, options);
  }

  delete<T = any>(path: string, body?: unknown, options?: RestOptions): Promise<RestResponse<T>> {
    return this.request<T>('DELETE', path, body, options);
  }
}

/** A browser that has fetched /config first, as allauth's SPA does, so it holds the csrftoken cookie. */
export async function restBrowser(server: TestServer): Promise<AllauthClient> {
  const client = new AllauthClient(server, 'browser');
  await client.get('/config');
  return client;
}

export function restApp(server: TestServer): AllauthClient {
  return new AllauthClient(server, 'app');
}
