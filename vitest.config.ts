import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql ships CJS and ESM builds; one copy only, or its instanceof checks fail across "realms".
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: integration files each open their own database; keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
