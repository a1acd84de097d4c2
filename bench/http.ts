// What the HTTP scenarios share: one set-up POST, a GraphQL call that fails loudly, a prepared request for the load
// generator, and a percentile.
import http from 'node:http';
import type { PreparedPost } from './load.js';

// node:http with keep-alive sockets costs about a third of what fetch (undici) does per request (0.13 ms against
// 0.43 ms of CPU for a bare request and answer, measured on these machines). The set-up requests run in the service's
// own process; the timed ones come from bench/load.ts, a thread of their own, over a leaner client still
// (bench/httpConnection.ts).
// A socket left idle closes before the service's keep-alive timeout would close it under a request (ECONNRESET, seen
// when the set-up requests resumed after a timed section of seven seconds on the load generator's own connections):
// Node's agent takes the server's `Keep-Alive: timeout=5` hint, less a second, only when it has a timeout of its own.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 60_000 });

export interface Answer {
  status: number;
  /** Set-Cookie lines, as a browser would receive them. */
  cookies: string[];
  json: any;
}

/** POSTs a JSON body over a kept-alive socket; the answer's body parsed as JSON. */
export function post(url: string, headers: Record<string, string>, body: unknown): Promise<Answer> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(text)) } }, (response) => {
      let data = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { data += chunk; });
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, cookies: response.headers['set-cookie'] ?? [], json: JSON.parse(data) });
        } catch (error) {
          reject(new Error(`not JSON (${response.statusCode}): ${data.slice(0, 200)}`, { cause: error }));
        }
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(text);
  });
}

/** The headers of an app client's GraphQL request. */
export function appHeaders(token: string | null, device?: string): Record<string, string> {
  // An app client: it is handed session and device tokens in payloads (browsers get cookies only), and sends its
  // device token back on every request, as a real app keeps it.
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tessera-client': 'app' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (device) headers['x-tessera-device'] = device;
  return headers;
}

/** An app client's GraphQL request, prepared for the load generator (bench/load.ts). */
export function prepared(query: string, variables: Record<string, unknown>, token: string | null, device?: string): PreparedPost {
  return { headers: appHeaders(token, device), body: JSON.stringify({ query, variables }) };
}

export async function gql(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}, device?: string): Promise<any> {
  const json = (await post(url, appHeaders(token, device), { query, variables })).json as { data: any; errors?: unknown };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
