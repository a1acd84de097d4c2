// Auditors and analysts read their views over HTTP; nobody else can; tampering with the log is detected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole } from '../../../src/application/roles.js';
import { findUserByEmail } from '../../../src/projections/users.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { userWithTotp } from '../totp/helpers.js';
import { createCheckpoint } from '../../../src/application/auditLog.js';
import { eventLeaf, verifyConsistency, verifyInclusion } from '../../../src/eventstore/merkle.js';

const system = { clientAddress: 'test', userAgent: 'test', requestId: 'test', actor: 'system' };
const auditQuery = `query($filter: AuditFilter, $after: String, $first: Int) {
  auditEvents(filter: $filter, after: $after, first: $first) {
    __typename ... on AuditPage { nextCursor events { position type userId summary hash } } ... on Error { code }
  }
}`;

describe('audit and analytics views', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  /** A user holding the role, through a session verified with TOTP (privileged roles act only at AAL2). */
  async function userWithRole(email: string, role: string) {
    const { client, userId } = await userWithTotp(server, email);
    await grantRole(server.app, userId, role, system);
    return { client, userId };
  }

  it('refuses the audit history to anonymous callers and to users without the auditor role', async () => {
    const anonymous = await server.appClient().gql(auditQuery);
    expect(anonymous.data.auditEvents).toEqual({ __typename: 'AuthError', code: 'NOT_AUTHENTICATED' });
    const plain = await signedUpUser(server, 'plain@example.com');
    expect((await plain.gql(auditQuery)).data.auditEvents).toEqual({ __typename: 'AuthError', code: 'FORBIDDEN' });
    expect((await plain.gql(`{ sessionAnalytics(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { __typename ... on Error { code } } }`)).data.sessionAnalytics.code).toBe('FORBIDDEN');
    // Every auditor field, the proofs and time travel included.
    const auditorFields = {
      auditVerification: '{ auditVerification { __typename ... on Error { code } } }',
      auditInclusionProof: '{ auditInclusionProof(position: "1") { __typename ... on Error { code } } }',
      auditConsistencyProof: '{ auditConsistencyProof(fromSize: "1", toSize: "1") { __typename ... on Error { code } } }',
      userAt: '{ userAt(userId: "x", at: "2026-01-01T00:00:00Z") { __typename ... on Error { code } } }',
      authenticatorsAt: '{ authenticatorsAt(userId: "x", at: "2026-01-01T00:00:00Z") { __typename ... on Error { code } } }',
      sessionsAt: '{ sessionsAt(userId: "x", at: "2026-01-01T00:00:00Z") { __typename ... on Error { code } } }',
    };
    for (const [field, query] of Object.entries(auditorFields)) {
      expect((await plain.gql(query)).data[field], field).toMatchObject({ code: 'FORBIDDEN' });
      expect((await server.appClient().gql(query)).data[field], field).toMatchObject({ code: 'NOT_AUTHENTICATED' });
    }
  });

  it('refuses auditors and analysts whose session used the password alone (AAL1): MFA_REQUIRED', async () => {
    for (const role of ['auditor', 'analyst']) {
      const client = await signedUpUser(server, `${role}-aal1@example.com`);
      const user = await findUserByEmail(server.app.db, server.app.personalData.hashes.email(`${role}-aal1@example.com`));
      await grantRole(server.app, user!.user_id, role, system);
      expect((await client.gql(auditQuery)).data.auditEvents.code).toBe(role === 'auditor' ? 'MFA_REQUIRED' : 'FORBIDDEN');
      const analytics = (await client.gql(`{ sessionAnalytics(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { __typename ... on Error { code } } }`)).data.sessionAnalytics;
      expect(analytics.code).toBe(role === 'analyst' ? 'MFA_REQUIRED' : 'FORBIDDEN');
    }
  });

  it('shows an auditor every event, filtered and paged, without secrets', async () => {
    const victim = await signedUpUser(server, 'victim@example.com', 'a very secret passphrase');
    await server.appClient().gql(`mutation { login(input: { email: "victim@example.com", password: "wrong guess here" }) { __typename } }`);
    const victimId = (await findUserByEmail(server.app.db, server.app.personalData.hashes.email('victim@example.com')))!.user_id;
    const { client: auditor } = await userWithRole('auditor@example.com', 'auditor');

    const all: Array<{ position: string; type: string; summary: Record<string, unknown> }> = [];
    let after: string | null = null;
    do {
      const page: any = (await auditor.gql(auditQuery, { after, first: 3 })).data.auditEvents;
      expect(page.__typename).toBe('AuditPage');
      all.push(...page.events);
      after = page.nextCursor;
    } while (after);
    const [row] = await server.app.db.query<{ count: number }>(`select count(*)::int as count from events`);
    const count = row!.count;
    expect(all).toHaveLength(count);
    expect(all.map((e) => Number(e.position))).toEqual([...all.map((e) => Number(e.position))].sort((a, b) => a - b));
    const text = JSON.stringify(all);
    expect(text).not.toContain('a very secret passphrase');
    expect(text).not.toContain('$argon2id$');
    expect(text).not.toContain(victim.token!);

    const filtered = (await auditor.gql(auditQuery, { filter: { userId: victimId, types: ['PasswordRejected'] } })).data.auditEvents;
    expect(filtered.events.map((e: any) => e.type)).toEqual(['PasswordRejected']);
    expect(filtered.events[0].userId).toBe(victimId);
  });

  it('pages Relay-style both ways and filters by actor, address, outcome and correlation id', async () => {
    const { client: auditor, userId: auditorId } = await userWithRole('auditor3@example.com', 'auditor');
    const relay = `query($filter: AuditFilter, $after: String, $first: Int, $before: String, $last: Int) {
      auditEvents(filter: $filter, after: $after, first: $first, before: $before, last: $last) {
        __typename ... on AuditPage { edges { cursor node { position type actor ip correlationId } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
        ... on AuthError { code field }
      }
    }`;
    const all = await server.app.db.query<{ position: number; type: string; actor: string | null; ip_hash: string | null; correlation_id: string | null }>(
      `select position, type, actor, ip_hash, correlation_id from proj.audit_events order by position`);
    const positions = (rows: Array<{ position: number }>) => rows.map((r) => String(r.position));

    // The latest two, then the two before them.
    const latestResponse = await auditor.gql(relay, { last: 2 });
    expect(latestResponse.errors).toBeUndefined();
    const latest = latestResponse.data.auditEvents;
    expect(latest.edges.map((e: any) => e.cursor)).toEqual(positions(all.slice(-2)));
    expect(latest.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false, startCursor: String(all.at(-2)!.position) });
    const earlier = (await auditor.gql(relay, { last: 2, before: latest.pageInfo.startCursor })).data.auditEvents;
    expect(earlier.edges.map((e: any) => e.cursor)).toEqual(positions(all.slice(-4, -2)));
    // Forwards from the start: every page exactly once.
    const seen: string[] = [];
    for (let after: string | null = null, more = true; more; ) {
      const page: any = (await auditor.gql(relay, { first: 7, after })).data.auditEvents;
      seen.push(...page.edges.map((e: any) => e.cursor));
      more = page.pageInfo.hasNextPage;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(positions(all));

    const filtered = async (filter: Record<string, unknown>): Promise<string[]> =>
      (await auditor.gql(relay, { filter, first: 1000 })).data.auditEvents.edges.map((e: any) => e.cursor);
    expect(await filtered({ actor: auditorId })).toEqual(positions(all.filter((r) => r.actor === auditorId)));
    const failures = all.filter((r) => /Rejected$/.test(r.type));
    expect(failures.length).toBeGreaterThan(0);
    expect(await filtered({ outcome: 'FAILURE', types: failures.map((r) => r.type) })).toEqual(positions(failures));
    expect(await filtered({ outcome: 'SUCCESS', types: ['PasswordRejected'] })).toEqual([]);
    // Addresses are kept as keyed pseudonyms only (issue 14 item 0): the filter takes the address and finds its pseudonym.
    const withAddress = all.find((r) => r.ip_hash !== null)!;
    const address = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].find((a) => server.app.personalData.hashes.address(a) === withAddress.ip_hash)!;
    expect(address).toBeDefined();
    expect(await filtered({ address })).toEqual(positions(all.filter((r) => r.ip_hash === withAddress.ip_hash)));
    const withCorrelation = all.find((r) => r.correlation_id !== null)!;
    expect(await filtered({ correlationId: withCorrelation.correlation_id })).toEqual(positions(all.filter((r) => r.correlation_id === withCorrelation.correlation_id)));
    const both = (await auditor.gql(relay, { first: 2, last: 2 })).data.auditEvents;
    expect(both).toMatchObject({ code: 'VALIDATION_FAILED', field: 'last' });
  });

  it('proves the log intact with signed checkpoints and proofs, then names the first altered position', async () => {
    const { client: auditor } = await userWithRole('auditor2@example.com', 'auditor');
    const verify = `{ auditVerification { __typename ... on ChainVerification { ok firstBrokenPosition reason checkpointsChecked breaks { kind position } } } }`;
    // Sign what is there (the horizon is cluster-wide: another transaction may hold it back a moment).
    const eventCount = async (): Promise<number> => (await server.app.db.query<{ n: number }>(`select count(*)::int as n from events`))[0]!.n;
    let checkpoint = await createCheckpoint(server.app);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && checkpoint?.treeSize !== (await eventCount()); await new Promise((r) => setTimeout(r, 25))) {
      checkpoint = await createCheckpoint(server.app);
    }
    expect(checkpoint).not.toBeNull();
    expect((await auditor.gql(verify)).data.auditVerification).toMatchObject({ ok: true, firstBrokenPosition: null, checkpointsChecked: checkpoint!.seq, breaks: [] });

    const [target] = await server.app.db.query<{ position: number }>(`select e.position from events e join audit_leaves l on l.position = e.position where e.type = 'PasswordRejected' order by e.position limit 1`);
    const proof = (await auditor.gql(`query($p: String!) { auditInclusionProof(position: $p) { __typename ... on AuditInclusionProof { leafIndex treeSize root eventHash hashes checkpoint { seq signature } } } }`, { p: String(target!.position) })).data.auditInclusionProof;
    expect(proof).toMatchObject({ __typename: 'AuditInclusionProof', treeSize: String(checkpoint!.treeSize), root: checkpoint!.root, checkpoint: { seq: checkpoint!.seq } });
    expect(verifyInclusion(eventLeaf(proof.eventHash), Number(proof.leafIndex), Number(proof.treeSize), proof.hashes.map((h: string) => Buffer.from(h, 'hex')), Buffer.from(proof.root, 'hex'))).toBe(true);
    const consistency = (await auditor.gql(`{ auditConsistencyProof(fromSize: "1", toSize: "${checkpoint!.treeSize}") { __typename ... on AuditConsistencyProof { fromRoot toRoot hashes } } }`)).data.auditConsistencyProof;
    expect(verifyConsistency(1, checkpoint!.treeSize, Buffer.from(consistency.fromRoot, 'hex'), Buffer.from(consistency.toRoot, 'hex'), consistency.hashes.map((h: string) => Buffer.from(h, 'hex')))).toBe(true);
    expect(consistency.toRoot).toBe(checkpoint!.root);
    const tooFar = (await auditor.gql(`{ auditConsistencyProof(fromSize: "1", toSize: "${checkpoint!.treeSize + 1000}") { __typename ... on Error { code } } }`)).data.auditConsistencyProof;
    expect(tooFar.code).toBe('VALIDATION_FAILED');

    // The trigger switched off, as a superuser can: the edit is named at its position.
    const tamper = (text: string, params: unknown[]) => server.app.db.transaction(async (tx) => {
      await tx.query(`set local session_replication_role = replica`);
      await tx.query(text, params);
    });
    await tamper(`update events set data = jsonb_set(data, '{userId}', '"someone-else"') where position = $1`, [target!.position]);
    expect((await auditor.gql(verify)).data.auditVerification).toMatchObject({ ok: false, firstBrokenPosition: String(target!.position), reason: 'EDITED' });
    await tamper(`update events set data = jsonb_set(data, '{userId}', to_jsonb((select user_id from proj.audit_events where position = $1))) where position = $1`, [target!.position]);
    expect((await auditor.gql(verify)).data.auditVerification.ok).toBe(true);
    // Without the trigger switched off, the application cannot change an event at all.
    await expect(server.app.db.query(`update events set data = '{}' where position = $1`, [target!.position])).rejects.toThrow(/append-only/);
  });

  it('gives an analyst logins by method, active sessions, MFA adoption and the failure rate', async () => {
    const { client: analyst } = await userWithRole('analyst@example.com', 'analyst');
    const res = await analyst.gql(`{ sessionAnalytics(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") {
      __typename ... on SessionAnalytics { loginsByMethod { method count } activeSessions users usersWithSecondFactor mfaAdoption loginAttempts loginFailures failureRate }
    } }`);
    const a = res.data.sessionAnalytics;
    expect(a.__typename).toBe('SessionAnalytics');
    const [sessionRow] = await server.app.db.query<{ sessions: number }>(`select count(*)::int as sessions from proj.sessions`);
    const sessions = sessionRow!.sessions;
    expect(a.loginsByMethod).toEqual([{ method: 'password', count: sessions }]);
    expect(a.activeSessions).toBe(sessions);
    const [withFactor] = await server.app.db.query<{ n: number }>(`select count(distinct stream_id)::int as n from events where type = 'TotpActivated'`);
    expect(a.usersWithSecondFactor).toBe(withFactor!.n);
    expect(a.mfaAdoption).toBeCloseTo(withFactor!.n / a.users);
    expect(a.loginFailures).toBeGreaterThanOrEqual(1);
    expect(a.failureRate).toBeCloseTo(a.loginFailures / a.loginAttempts);
    const bad = await analyst.gql(`{ sessionAnalytics(from: "2100-01-01T00:00:00Z", to: "2000-01-01T00:00:00Z") { __typename ... on AuthError { code field } } }`);
    expect(bad.data.sessionAnalytics).toEqual({ __typename: 'AuthError', code: 'VALIDATION_FAILED', field: 'to' });
  });
});
