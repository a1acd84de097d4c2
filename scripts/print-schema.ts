// Prints schema.graphql from the Pothos schema. `--check` exits 1 when the committed file is stale.
import fs from 'node:fs';
import { printSchema, lexicographicSortSchema } from 'graphql';
import { schema } from '../src/graphql/schema.js';

export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = new URL('../schema.graphql', import.meta.url);
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current !== printedSchema()) {
      console.error('schema.graphql is stale: run npm run schema:print');
      process.exit(1);
    }
  } else {
    fs.writeFileSync(file, printedSchema());
  }
}
