// One id ties a request's log line to the events it wrote: what an operator follows from a complaint to the log. That
// id is the server's (issue 11 item 11): a caller's X-Request-Id is kept beside it, labelled as the caller's
// claim, and never becomes the correlation id, or a caller could file its requests under someone else's trace.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('correlation ids', () => {
  let server: TestServer;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    server = await startTestServer();
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
    server.app.logger = pino({ level: 'info' }, sink);
  });
  afterAll(() => server.close());

  it("mints the correlation id itself: the caller's X-Request-Id is kept as clientRequestId in the events, the log line and its own response header", async () => {
    const client = server.appClient();
    const res = await client.gql(`mutation { signup(input: { email: "trace@example.com", password: "correct horse battery" }) { __typename } }`, undefined, { headers: { 'x-request-id': 'frontend-trace-0001' } });
    expect(res.data.signup.__typename).toBe('AuthPayload');
    const requestId = res.headers.get('x-request-id')!;
    expect(requestId).toMatch(uuid);
    expect(res.headers.get('x-client-request-id')).toBe('frontend-trace-0001');

    // The caller's id is nowhere a correlation id; every event of the request has the server's, and the caller's under its own name.
    expect(await server.app.db.query(`select 1 from events where metadata->>'correlationId' = 'frontend-trace-0001'`)).toHaveLength(0);
    const events = await server.app.db.query<{ metadata: { correlationId: string; clientRequestId?: string } }>(`select metadata from events where metadata->>'correlationId' = $1`, [requestId]);
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const { metadata } of events) expect(metadata).toMatchObject({ correlationId: requestId, clientRequestId: 'frontend-trace-0001' });

    await new Promise((r) => setTimeout(r, 50));
    const line = lines.find((l) => l.msg === 'request' && l.requestId === requestId);
    expect(line).toMatchObject({ requestId, clientRequestId: 'frontend-trace-0001', status: 200 });
    // No secret reaches the log line.
    expect(JSON.stringify(lines)).not.toContain('correct horse battery');
  });

  it("cannot file a request under another request's correlation id", async () => {
    const victim = await server.appClient().gql(`{ config { sessions { trackActivity } } }`);
    const victimId = victim.headers.get('x-request-id')!;
    const res = await server.appClient().gql(`mutation { signup(input: { email: "forger@example.com", password: "correct horse battery" }) { __typename } }`, undefined, { headers: { 'x-request-id': victimId } });
    expect(res.headers.get('x-request-id')).not.toBe(victimId);
    expect(await server.app.db.query(`select 1 from events where metadata->>'correlationId' = $1`, [victimId])).toHaveLength(0);
    const forged = await server.app.db.query<{ metadata: Record<string, string> }>(`select metadata from events where metadata->>'clientRequestId' = $1`, [victimId]);
    expect(forged.length).toBeGreaterThan(0);
    for (const { metadata } of forged) expect(metadata.correlationId).toBe(res.headers.get('x-request-id'));
  });

  it('ignores an id that does not look like one: a fresh server id, and no clientRequestId anywhere', async () => {
    const res = await server.appClient().gql(`mutation { signup(input: { email: "plain@example.com", password: "correct horse battery" }) { __typename } }`, undefined, { headers: { 'x-request-id': 'x' } });
    const requestId = res.headers.get('x-request-id')!;
    expect(requestId).toMatch(uuid);
    expect(res.headers.get('x-client-request-id')).toBeNull();
    const events = await server.app.db.query<{ metadata: Record<string, string> }>(`select metadata from events where metadata->>'correlationId' = $1`, [requestId]);
    expect(events.length).toBeGreaterThan(0);
    for (const { metadata } of events) expect(metadata).not.toHaveProperty('clientRequestId');
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.find((l) => l.msg === 'request' && l.requestId === requestId)).not.toHaveProperty('clientRequestId');
  });

  it('logs an accident once, under the request\'s correlation id, and tells the caller only that something went wrong', async () => {
    // The database fails: inside a resolver (an anonymous signup), and while the context looks a bearer token up.
    const db = server.app.db;
    const { query, transaction } = db;
    const fire = async (): Promise<never> => { throw Object.assign(new Error('database on fire'), { code: '57P01' }); };
    db.query = fire;
    db.transaction = fire;
    const responses = [];
    try {
      responses.push(await server.appClient().gql(`mutation { signup(input: { email: "accident@example.com", password: "correct horse battery" }) { __typename } }`));
      responses.push(await server.appClient('a'.repeat(43)).gql(`{ me { id } }`));
    } finally {
      db.query = query;
      db.transaction = transaction;
    }
    await new Promise((r) => setTimeout(r, 50));
    for (const res of responses) {
      expect(res.errors?.map((e: { message: string }) => e.message)).toEqual(['Unexpected error.']);
      const requestId = res.headers.get('x-request-id')!;
      const logged = lines.filter((l) => l.msg === 'unexpected error' && l.requestId === requestId);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ err: { message: 'database on fire', code: '57P01' } });
    }
    // Every accident was logged with its request's id, none without.
    expect(lines.filter((l) => l.msg === 'unexpected error' && !l.requestId)).toEqual([]);
  });
});
