import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../scripts/print-schema.js';

describe('schema.graphql', () => {
  it('is the schema printed from the code (run npm run schema:print when this fails)', () => {
    expect(fs.readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8')).toBe(printedSchema());
  });
});
