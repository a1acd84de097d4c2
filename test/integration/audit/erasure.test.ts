// Issue 14 item 0: personal data is sealed under a per-person key, and erasing the person (deleting the account, or an
// administrator's erase) destroys the key. Afterwards nothing readable of them remains in the database or the logs,
// every chain and checkpoint still verifies, a rebuild equals live, and the audit view shows the person as erased.
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint, verifyAuditLog } from '../../../src/application/auditLog.js';
import { grantRole } from '../../../src/application/roles.js';
import { liveSchema } from '../../../src/projections/projector.js';
import { startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import { userWithTotp } from '../totp/helpers.js';
import { runTool } from '../../helpers/tools.js';

const system = { clientAddress: '', userAgent: '', requestId: 'test', actor: 'system' };
const password = 'correct horse battery staple';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Every row of every table of the database, as text: what a dump of it would show. */
async function dumpDatabase(server: TestServer): Promise<string> {
  const tables = await server.app.db.query<{ schema: string; name: string }>(
    `select table_schema as schema, table_name as name from information_schema.tables
      where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`,
  );
  const parts: string[] = [];
  for (const t of tables) {
    const rows = await server.app.db.query<{ row: string }>(`select t::text as row from "${t.schema}"."${t.name}" t`);
    parts.push(`${t.schema}.${t.name}\n${rows.map((r) => r.row).join('\n')}`);
  }
  return parts.join('\n');
}

interface Person {
  email: string;
  addresses: string[];
  agents: string[];
  client: GraphQLClient;
  userId: string;
}

describe('erasure of personal data', () => {
  let server: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    // The loopback proxy is trusted, so each request's X-Forwarded-For gives it a distinctive client address.
    server = await startTestServer({ env: { TRUST_PROXY: '127.0.0.1,::1', SESSION_ACTIVITY_INTERVAL_SECONDS: '0' } });
    server.app.logger = pino({ level: 'trace' }, new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
  });
  afterAll(() => server.close());

  const as = (ip: string, agent: string) => ({ headers: { 'x-forwarded-for': ip, 'user-agent': agent } });

  /** A person who signs up, signs in again from elsewhere, fails a password once, and looks at their account. */
  async function person(tag: string): Promise<Person> {
    const n = () => 1 + randomBytes(1)[0]! % 250;
    const email = `${tag}.${randomBytes(4).toString('hex')}@erasure.example.org`;
    const addresses = [`203.0.113.${n()}`, `198.51.100.${n()}`, `192.0.2.${n()}`];
    const agents = addresses.map((_, i) => `ErasureProbe/${tag}-${i}-${randomBytes(3).toString('hex')}`);
    const client = server.appClient();
    const signup = await client.gql(`mutation($input: CredentialsInput!) { signup(input: $input) { __typename ... on AuthPayload { sessionToken } } }`, { input: { email, password } }, as(addresses[0]!, agents[0]!));
    expect(signup.data.signup.__typename).toBe('AuthPayload');
    const wrong = await server.appClient().gql(`mutation($input: CredentialsInput!) { login(input: $input) { __typename } }`, { input: { email, password: 'not the password at all' } }, as(addresses[2]!, agents[2]!));
    expect(wrong.data.login.__typename).not.toBe('AuthPayload');
    const second = server.appClient();
    const login = await second.gql(`mutation($input: CredentialsInput!) { login(input: $input) { __typename ... on AuthPayload { sessionToken } } }`, { input: { email, password } }, as(addresses[1]!, agents[1]!));
    expect(login.data.login.__typename).toBe('AuthPayload');
    const me = await client.gql(`{ me { id email sessions { ip userAgent } } }`, undefined, as(addresses[0]!, agents[0]!));
    if (!me.data?.me) throw new Error(JSON.stringify({ me, signup, lines: lines.slice(-5) }));
    // The API still shows the person their own data, opened from its sealed form.
    expect(me.data.me.email).toBe(email);
    expect(me.data.me.sessions.map((s: { ip: string }) => s.ip).sort()).toEqual([addresses[0], addresses[1]].sort());
    expect(me.data.me.sessions.map((s: { userAgent: string }) => s.userAgent).sort()).toEqual([agents[0], agents[1]].sort());
    return { email, addresses, agents, client, userId: me.data.me.id };
  }

  const traces = (p: Person): string[] => [p.email, sha256(p.email), ...p.addresses, ...p.agents];

  async function expectErased(p: Person): Promise<void> {
    const dump = await dumpDatabase(server);
    for (const trace of traces(p)) expect(dump, `database holds ${trace}`).not.toContain(trace);
    const logs = lines.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const trace of traces(p)) expect(logs, `logs hold ${trace}`).not.toContain(trace);
    expect(await verifyAuditLog(server.app)).toMatchObject({ ok: true });
    await createCheckpoint(server.app);
    expect(await verifyAuditLog(server.app)).toMatchObject({ ok: true });
    // A rebuild works and equals what was live, then replaces it.
    await server.app.projections.buildCopy('erasure_copy');
    expect(await server.app.projections.compare('erasure_copy', liveSchema)).toEqual([]);
    await server.app.projections.rebuild();
    expect(await server.app.projections.compare('erasure_copy', liveSchema)).toEqual([]);
    await server.app.db.query(`drop schema erasure_copy cascade`);
    const after = await dumpDatabase(server);
    for (const trace of traces(p)) expect(after, `rebuilt projections hold ${trace}`).not.toContain(trace);
  }

  async function auditView(auditor: GraphQLClient, userId: string) {
    const res = await auditor.gql(`query($filter: AuditFilter) { auditEvents(filter: $filter, first: 100) {
      __typename ... on AuditPage { events { type userId ip userAgent erased summary } } ... on Error { code } } }`, { filter: { userId } });
    if (res.data?.auditEvents?.__typename !== 'AuditPage') throw new Error(JSON.stringify(res.errors ?? res.data));
    return res.data.auditEvents.events as Array<{ type: string; ip: string | null; userAgent: string | null; erased: boolean; summary: Record<string, unknown> }>;
  }

  it('holds no clear email, address or user agent in events or projections, while the API shows them to their owner', async () => {
    const p = await person('clear');
    const dump = await dumpDatabase(server);
    for (const trace of traces(p)) expect(dump, `database holds ${trace}`).not.toContain(trace);
    // The email's claim stream is named by a keyed hash, not by the address's SHA-256 (which anyone can confirm).
    const [claim] = await server.app.db.query<{ stream_id: string }>(`select stream_id from events where type = 'EmailClaimed' and data->>'userId' = $1`, [p.userId]);
    expect(claim!.stream_id).toBe(`email-${server.app.personalData.hashes.email(p.email)}`);
    expect(claim!.stream_id).not.toContain(sha256(p.email).slice(0, 40));
  });

  it('after deleteAccount: nothing readable of the person anywhere, proofs verify, rebuild equals live, audit shows erased', async () => {
    const { client: auditor } = await userWithTotp(server, `auditor-${randomBytes(3).toString('hex')}@example.com`).then(async (a) => {
      await grantRole(server.app, a.userId, 'auditor', system);
      return a;
    });
    const p = await person('deleted');
    await createCheckpoint(server.app);
    const before = await auditView(auditor, p.userId);
    expect(before.some((e) => e.ip === p.addresses[0])).toBe(true);
    expect(before.find((e) => e.type === 'UserRegistered')!.summary.email).toBe(p.email);
    const deleted = await p.client.gql(`mutation { deleteAccount { __typename } }`, undefined, as(p.addresses[0]!, p.agents[0]!));
    expect(deleted.errors).toBeUndefined();
    await expectErased(p);
    const events = await auditView(auditor, p.userId);
    expect(events.map((e) => e.type)).toContain('UserErased');
    expect(events.every((e) => e.erased && e.ip === null && e.userAgent === null)).toBe(true);
    expect(events.find((e) => e.type === 'UserRegistered')!.summary.email).toBeNull();
    // The operators' command says the same, from its own process (exit 0 when intact, else runTool rejects).
    const verified = await runTool('env', [
      `DATABASE_URL=${server.database.url}`, 'DATA_DIR=.data/test', 'NODE_ENV=test', 'LOG_LEVEL=silent',
      process.execPath, '--import', 'tsx', 'src/cli.ts', 'audit', 'verify',
    ]);
    expect(JSON.parse(verified.trim().split('\n').at(-1)!)).toMatchObject({ ok: true });
  }, 120_000);

  it("after an administrator's erase with a reason: the same, and the reason is recorded", async () => {
    const admin = await userWithTotp(server, `admin-${randomBytes(3).toString('hex')}@example.com`);
    await grantRole(server.app, admin.userId, 'admin', system);
    await grantRole(server.app, admin.userId, 'auditor', system);
    const p = await person('erased');
    const refused = await admin.client.gql(`mutation($input: EraseUserInput!) { eraseUser(input: $input) { __typename ... on Error { code } } }`, { input: { userId: p.userId, reason: `asked by ${p.email}` } });
    expect(refused.data.eraseUser).toMatchObject({ code: 'VALIDATION_FAILED' });
    const erased = await admin.client.gql(`mutation($input: EraseUserInput!) { eraseUser(input: $input) { __typename ... on EraseUserPayload { userId } ... on Error { code } } }`, { input: { userId: p.userId, reason: 'ticket GDPR-1234' } });
    expect(erased.data.eraseUser).toEqual({ __typename: 'EraseUserPayload', userId: p.userId });
    await expectErased(p);
    const events = await auditView(admin.client, p.userId);
    expect(events.find((e) => e.type === 'UserErased')!.summary).toMatchObject({ userId: p.userId, by: admin.userId, reason: 'ticket GDPR-1234' });
    expect(events.every((e) => e.erased && e.ip === null)).toBe(true);
    // The erased person's session is over and their address free for someone new.
    expect((await p.client.gql(`{ me { id } }`)).data.me).toBeNull();
    const again = await server.appClient().gql(`mutation($input: CredentialsInput!) { signup(input: $input) { __typename } }`, { input: { email: p.email, password } });
    expect(again.data.signup.__typename).toBe('AuthPayload');
  });

  it('a restored backup still holding an erased key loses it again at start-up', async () => {
    const p = await person('restored');
    const [row] = await server.app.db.query<{ wrapped_key: string }>(`select wrapped_key from personal_data_keys where subject_id = $1`, [p.userId]);
    expect(await p.client.gql(`mutation { deleteAccount { __typename } }`)).toMatchObject({ data: { deleteAccount: { __typename: 'LogoutPayload' } } });
    // The backup: the key row as it was before the erasure.
    await server.app.db.query(`update personal_data_keys set wrapped_key = $2, erased_at = null where subject_id = $1`, [p.userId, row!.wrapped_key]);
    const { replayErasures } = await import('../../../src/application/personalDataConversion.js');
    expect(await replayErasures(server.app.db, server.app.personalData)).toBe(1);
    const [after] = await server.app.db.query<{ wrapped_key: string | null }>(`select wrapped_key from personal_data_keys where subject_id = $1`, [p.userId]);
    expect(after!.wrapped_key).toBeNull();
  });
});
