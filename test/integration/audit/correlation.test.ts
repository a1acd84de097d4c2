// One id ties a request's log line to the events it wrote: what an operator follows from a complaint to the log.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('correlation ids', () => {
  let server: TestServer;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    server = await startTestServer();
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
    server.app.logger = pino({ level: 'info' }, sink);
  });
  afterAll(() => server.close());

  it('writes the request id into the request log line, the response header and every event the request wrote', async () => {
    const client = server.appClient();
    const res = await client.gql(`mutation { signup(input: { email: "trace@example.com", password: "correct horse battery" }) { __typename } }`, undefined, { headers: { 'x-request-id': 'frontend-trace-0001' } });
    expect(res.headers.get('x-request-id')).toBe('frontend-trace-0001');
    const events = await server.app.db.query<{ metadata: { correlationId: string } }>(`select metadata from events where metadata->>'correlationId' = 'frontend-trace-0001'`);
    expect(events.length).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.some((l) => l.msg === 'request' && l.requestId === 'frontend-trace-0001' && l.status === 200)).toBe(true);
    // No secret reaches the log line.
    expect(JSON.stringify(lines)).not.toContain('correct horse battery');
  });

  it('replaces an id that does not look like one', async () => {
    const res = await server.appClient().gql(`{ config { sessions { trackActivity } } }`, undefined, { headers: { 'x-request-id': 'x' } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
