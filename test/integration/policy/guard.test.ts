// The schema's otp_required (the `aal2` scope, as `otpRequired` or inside `privileged(role)`): every field that needs
// a session verified with a strong second factor is listed here, and an AAL1 session of a user holding every role
// calling each one gets MFA_REQUIRED. A new field that carries the scope without being listed (or an old one that
// loses it) fails the first test.
import { getNamedType, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType, type GraphQLField, type GraphQLInputType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runUserCommand } from '../../../src/cli/users.js';
import { schema } from '../../../src/graphql/schema.js';
import { startTestServer, type GraphQLClient, type TestServer } from '../../helpers/server.js';
import { fastArgon, loginMutation, PASSWORD } from '../totp/helpers.js';

/** Fields guarded by the aal2 scope, as `Type.field`. */
const expectedGuarded = [
  'Query.auditConsistencyProof', 'Query.auditEvents', 'Query.auditInclusionProof', 'Query.auditVerification', 'Query.authenticatorsAt',
  'Query.analyticsLag', 'Query.sessionAnalytics', 'Query.sessionProvenance', 'Query.sessionsAt', 'Query.userAt', 'Query.users',
  'Mutation.eraseUser', 'Mutation.liftMfaRequirement', 'Mutation.requireMfa', 'Mutation.resetUserMfa', 'Mutation.revokeRole', 'Mutation.signOutUser', 'Mutation.unlockUser',
];

function carriesAal2(scopes: unknown): boolean {
  if (!scopes || typeof scopes !== 'object') return false;
  return Object.entries(scopes as Record<string, unknown>).some(([key, value]) => (key === 'aal2' && value === true) || (key.startsWith('$') && carriesAal2(value)));
}

function guardedFields(): Array<{ operation: 'query' | 'mutation'; field: GraphQLField<unknown, unknown> }> {
  const out: Array<{ operation: 'query' | 'mutation'; field: GraphQLField<unknown, unknown> }> = [];
  for (const [operation, type] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
    for (const field of Object.values(type!.getFields())) {
      if (carriesAal2((field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes)) out.push({ operation, field });
    }
  }
  return out;
}

/** A literal for a required argument: the scope check runs before any resolver looks at it. */
function literal(type: GraphQLInputType): string {
  const inner = getNullableType(type);
  if (isListType(inner)) return `[${literal(inner.ofType)}]`;
  if (isInputObjectType(inner)) {
    const fields = Object.values(inner.getFields()).filter((f) => isNonNullType(f.type));
    return `{ ${fields.map((f) => `${f.name}: ${literal(f.type)}`).join(', ')} }`;
  }
  if (isEnumType(inner)) return inner.getValues()[0]!.name;
  const named = getNamedType(inner).name;
  if (named === 'Int') return '1';
  if (named === 'Boolean') return 'true';
  if (named === 'DateTime') return '"2030-01-01T00:00:00.000Z"';
  return '"1"';
}

function operationFor(operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((a) => isNonNullType(a.type)).map((a) => `${a.name}: ${literal(a.type)}`);
  return `${operation} { ${field.name}${args.length ? `(${args.join(', ')})` : ''} { __typename ... on Error { code } } }`;
}

let server: TestServer;
let aal1: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer({ env: fastArgon });
  vi.spyOn(console, 'log').mockImplementation(() => {});
  await runUserCommand(server.app, 'create', { email: 'all-roles@example.com', password: PASSWORD, admin: true });
  await runUserCommand(server.app, 'grant-role', { email: 'all-roles@example.com', role: 'auditor' });
  await runUserCommand(server.app, 'grant-role', { email: 'all-roles@example.com', role: 'analyst' });
  // Within the grace period: a full AAL1 session (not limited to enrolling), holding every role.
  aal1 = server.appClient();
  await aal1.gql(loginMutation, { email: 'all-roles@example.com', password: PASSWORD });
});
afterAll(async () => { vi.restoreAllMocks(); await server?.close(); });

describe('otp_required: the aal2 guard', () => {
  it('is carried by exactly the listed fields', () => {
    expect(guardedFields().map(({ operation, field }) => `${operation === 'query' ? 'Query' : 'Mutation'}.${field.name}`).sort()).toEqual([...expectedGuarded].sort());
  });

  it('answers MFA_REQUIRED to an AAL1 session of a user holding every role, on each listed field', async () => {
    const state = (await aal1.gql(`{ authState { isAuthenticated session { aal } user { id } } }`)).data.authState;
    expect(state).toMatchObject({ isAuthenticated: true, session: { aal: 1 } });
    const answers: Record<string, unknown> = {};
    for (const { operation, field } of guardedFields()) {
      const res = await aal1.gql(operationFor(operation, field));
      answers[field.name] = res.data?.[field.name]?.code ?? res.errors?.[0]?.message;
    }
    expect(answers).toEqual(Object.fromEntries(guardedFields().map(({ field }) => [field.name, 'MFA_REQUIRED'])));
  });
});
