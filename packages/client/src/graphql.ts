// gql.tada over the introspection generated from schema.graphql: every document below is typed by the schema
// itself, with no codegen step beyond the one committed file (kept fresh by a test).
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.js';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; JSON: unknown; ID: string };
  disableMasking: true;
}>();

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';
