// Who reads analytics: analysts through a session verified with a second factor (AAL2), nobody else; bad arguments are
// typed errors that name the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole } from '../../../src/application/roles.js';
import { findUserByEmail } from '../../../src/projections/users.js';
import { signedUpUser, startTestServer, type TestServer } from '../../helpers/server.js';
import { fastArgon, userWithTotp } from '../totp/helpers.js';

const system = { clientAddress: 'test', userAgent: 'test', requestId: 'test', actor: 'system' };
const series = `{ sessionAnalytics(from: "2026-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z", bucket: DAY) {
  __typename ... on Error { code } ... on SessionAnalytics { series { start logins } } } }`;
const lag = `{ analyticsLag { __typename ... on Error { code } ... on AnalyticsLag { events seconds } } }`;

describe('analytics access', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: fastArgon });
  });
  afterAll(() => server.close());

  it('anonymous: NOT_AUTHENTICATED; a user without the role, or an auditor: FORBIDDEN', async () => {
    expect((await server.appClient().gql(series)).data.sessionAnalytics.code).toBe('NOT_AUTHENTICATED');
    expect((await server.appClient().gql(lag)).data.analyticsLag.code).toBe('NOT_AUTHENTICATED');
    const plain = await signedUpUser(server, 'plain@example.com');
    expect((await plain.gql(series)).data.sessionAnalytics.code).toBe('FORBIDDEN');
    expect((await plain.gql(lag)).data.analyticsLag.code).toBe('FORBIDDEN');
    const { client: auditor, userId } = await userWithTotp(server, 'auditor@example.com');
    await grantRole(server.app, userId, 'auditor', system);
    expect((await auditor.gql(series)).data.sessionAnalytics.code).toBe('FORBIDDEN');
    expect((await auditor.gql(lag)).data.analyticsLag.code).toBe('FORBIDDEN');
  });

  it('an analyst whose session used the password alone (AAL1): MFA_REQUIRED', async () => {
    const client = await signedUpUser(server, 'analyst-aal1@example.com');
    const user = await findUserByEmail(server.app.db, server.app.personalData.hashes.email('analyst-aal1@example.com'));
    await grantRole(server.app, user!.user_id, 'analyst', system);
    expect((await client.gql(series)).data.sessionAnalytics.code).toBe('MFA_REQUIRED');
    expect((await client.gql(lag)).data.analyticsLag.code).toBe('MFA_REQUIRED');
  });

  it('an analyst at AAL2 reads the series and the lag; a bad time zone or too many buckets is VALIDATION_FAILED naming the field', async () => {
    const { client, userId } = await userWithTotp(server, 'analyst@example.com');
    await grantRole(server.app, userId, 'analyst', system);
    const ok = (await client.gql(series)).data.sessionAnalytics;
    expect(ok.__typename).toBe('SessionAnalytics');
    expect(ok.series).toHaveLength(7);
    expect((await client.gql(lag)).data.analyticsLag.__typename).toBe('AnalyticsLag');
    const badZone = await client.gql(`{ sessionAnalytics(from: "2026-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z", timeZone: "Mars/Olympus") {
      __typename ... on AuthError { code field } } }`);
    expect(badZone.data.sessionAnalytics).toEqual({ __typename: 'AuthError', code: 'VALIDATION_FAILED', field: 'timeZone' });
    const tooMany = await client.gql(`{ sessionAnalytics(from: "2000-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z", bucket: HOUR) {
      __typename ... on AuthError { code field } ... on SessionAnalytics { series { start } } } }`);
    expect(tooMany.data.sessionAnalytics).toEqual({ __typename: 'AuthError', code: 'VALIDATION_FAILED', field: 'to' });
    // The totals alone may span any range.
    const totals = await client.gql(`{ sessionAnalytics(from: "2000-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z", bucket: HOUR) {
      __typename ... on SessionAnalytics { users } } }`);
    expect(totals.data.sessionAnalytics.__typename).toBe('SessionAnalytics');
    const badBucket = await client.gql(`{ sessionAnalytics(from: "2026-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z", bucket: MONTH) { __typename } }`);
    expect(badBucket.errors?.[0]?.message).toMatch(/MONTH/);
  });
});
