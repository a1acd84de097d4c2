// Writes src/graphql-env.d.ts, the type gql.tada reads to type every operation, from the server's schema.graphql
// (itself printed from the code by `npm run schema:print`). test/unit/clientIntrospection.test.ts fails when the
// committed file differs from what this script would write, so a schema change cannot leave the client's types stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, introspectionFromSchema } from 'graphql';
import { minifyIntrospection, preprocessIntrospection } from '@gql.tada/internal';

const here = dirname(fileURLToPath(import.meta.url));
export const schemaPath = resolve(here, '../../../schema.graphql');
export const outputPath = resolve(here, '../src/graphql-env.d.ts');

export function renderIntrospection(sdl) {
  const introspection = minifyIntrospection(introspectionFromSchema(buildSchema(sdl), { descriptions: false }));
  return `/* eslint-disable */\n// Generated from schema.graphql by packages/client/scripts/generate-introspection.mjs (npm run generate -w @tessera/client).\n// Do not edit: a test fails when this file is stale.\nexport type introspection = ${preprocessIntrospection(introspection)};\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(outputPath, renderIntrospection(readFileSync(schemaPath, 'utf8')));
  console.log(`wrote ${outputPath}`);
}
