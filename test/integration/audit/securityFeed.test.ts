// Issue 14 item 7: the live security feed over SSE. Every event appended after the subscription starts arrives once, in
// order, across a reconnect with `after`; a user never sees another user's events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole } from '../../../src/application/roles.js';
import { signedUpUser, startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import { userWithTotp } from '../totp/helpers.js';

const system = { clientAddress: 'test', userAgent: 'test', requestId: 'test', actor: 'system' };
const subscription = `subscription($filter: SecurityEventFilter, $after: String) {
  securityEvents(filter: $filter, after: $after) { __typename ... on SecurityEvent { cursor event { position type userId } } ... on Error { code } } }`;

interface Delivered { cursor: string; event: { position: string; type: string; userId: string | null } }

/** An SSE subscription through the real server: collects `next` payloads until stopped. */
function subscribe(server: TestServer, client: GraphQLClient, variables: Record<string, unknown> = {}) {
  const controller = new AbortController();
  const received: Delivered[] = [];
  const errors: unknown[] = [];
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const done = (async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST', signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-tessera-csrf': '1', authorization: `Bearer ${client.token}` },
      body: JSON.stringify({ query: subscription, variables }),
    });
    open();
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buffer += value;
        for (let cut = buffer.indexOf('\n\n'); cut !== -1; cut = buffer.indexOf('\n\n')) {
          const message = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = message.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
          if (!/^event: next/m.test(message) || !data) continue;
          const payload = JSON.parse(data);
          if (payload.errors) errors.push(...payload.errors);
          else if (payload.data.securityEvents.__typename !== 'SecurityEvent') errors.push(payload.data.securityEvents);
          else received.push(payload.data.securityEvents);
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  })().catch((error) => {
    if ((error as Error).name !== 'AbortError') errors.push(error);
  });
  return {
    received, errors, opened,
    async until(count: number, timeoutMs = 20_000): Promise<Delivered[]> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count && errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return received;
    },
    async stop(): Promise<void> {
      controller.abort();
      await done;
    },
  };
}

describe('securityEvents over SSE', () => {
  let server: TestServer;
  let auditor: GraphQLClient;
  beforeAll(async () => {
    server = await startTestServer();
    const user = await userWithTotp(server, 'feed-auditor@example.com');
    await grantRole(server.app, user.userId, 'auditor', system);
    auditor = user.client;
  });
  afterAll(() => server.close());

  const logPositions = async (afterPosition: number): Promise<string[]> =>
    (await server.app.db.query<{ position: number }>(`select position from events where position > $1 order by tx_id, position`, [afterPosition])).map((r) => String(r.position));

  it('an auditor sees every event appended after the start once, in order, and resumes after a reconnect', async () => {
    const [{ max }] = (await server.app.db.query<{ max: number }>(`select coalesce(max(position), 0)::int as max from events`)) as [{ max: number }];
    const first = subscribe(server, auditor);
    await first.opened;
    await signedUpUser(server, 'feed-a@example.com');
    await signedUpUser(server, 'feed-b@example.com');
    const expectedSoFar = await logPositions(max);
    const seen = await first.until(expectedSoFar.length);
    expect(first.errors).toEqual([]);
    expect(seen.map((d) => d.event.position)).toEqual(expectedSoFar);
    const resumeFrom = seen.at(-1)!.cursor;
    await first.stop();

    // While nobody listens, more happens; the reconnect with `after` gets exactly that, then what follows.
    await signedUpUser(server, 'feed-c@example.com');
    const second = subscribe(server, auditor, { after: resumeFrom });
    await second.opened;
    await signedUpUser(server, 'feed-d@example.com');
    const all = await logPositions(max);
    const rest = await second.until(all.length - seen.length);
    await second.stop();
    expect(second.errors).toEqual([]);
    expect([...seen, ...rest].map((d) => d.event.position)).toEqual(all);
  }, 60_000);

  it('a user sees their own events only, and may not ask for another user\'s', async () => {
    const alice = await signedUpUser(server, 'feed-alice@example.com');
    const aliceId = (await alice.gql(`{ me { id } }`)).data.me.id as string;
    const nosy = subscribe(server, alice, { filter: { userId: 'someone-else' } });
    await nosy.until(1, 3000);
    await nosy.stop();
    expect(JSON.stringify(nosy.errors)).toContain('FORBIDDEN');
    const feed = subscribe(server, alice);
    await feed.opened;
    // Another user's events first, then one of Alice's: whatever arrives before hers would be a leak.
    await signedUpUser(server, 'feed-mallory@example.com');
    await alice.gql(`mutation { logout { __typename } }`);
    const got = await feed.until(1);
    await feed.stop();
    expect(feed.errors).toEqual([]);
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((d) => d.event.userId === aliceId)).toBe(true);

    const anonymous = subscribe(server, server.appClient());
    await anonymous.until(1, 3000);
    await anonymous.stop();
    expect(JSON.stringify(anonymous.errors)).toContain('NOT_AUTHENTICATED');
  }, 60_000);
});
