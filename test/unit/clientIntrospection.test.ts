// packages/client's operations are typed from src/graphql-env.d.ts, generated from schema.graphql. When the schema
// changes (npm run schema:print), this fails until `npm run generate -w @tessera/client` rewrites the file, so the
// client's types can never silently describe an older API.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outputPath, renderIntrospection, schemaPath } from '../../packages/client/scripts/generate-introspection.mjs';

describe('the client\'s generated GraphQL types', () => {
  it('match schema.graphql (else: npm run generate -w @tessera/client)', () => {
    const expected = renderIntrospection(readFileSync(schemaPath, 'utf8'));
    expect(readFileSync(outputPath, 'utf8')).toBe(expected);
  });
});
