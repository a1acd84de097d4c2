import { defineConfig } from 'vitest/config';

// TEST_DB=pglite runs the embedded-database suite: the unit tests, the event-store suite on PGlite and the embedded
// server. Every other file needs PostgreSQL (several connections, or races that PGlite's single connection would
// serialize so that they could never fail); it is left out here, and says so, rather than passing for nothing.
const embeddedSuite = ['test/unit/**/*.test.ts', 'test/integration/eventstore/eventstore.pglite.test.ts', 'test/e2e/embedded.test.ts'];
const pgliteOnly = process.env.TEST_DB === 'pglite';
if (pgliteOnly) {
  console.log('TEST_DB=pglite: running the embedded-database suite only; test/integration/** and test/e2e/** (but embedded.test.ts) ' +
    'are skipped because they need PostgreSQL: several connections, or races that one PGlite connection would serialize.');
}

export default defineConfig({
  // graphql ships CJS and ESM builds; one copy only, or its instanceof checks fail across "realms".
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: pgliteOnly ? embeddedSuite : ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: integration files each open their own database; keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
