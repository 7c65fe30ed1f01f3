import { defineConfig } from 'vitest/config';

// The fault phase: tests that kill services and restart the shared Postgres and Redis. They run after
// the main suite, one file at a time (a restart would break any test running beside them), against
// the built services (`npm run build` first).
export default defineConfig({
  resolve: { conditions: ['relay-source', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['relay-source', 'node', 'import', 'default'] } },
  test: {
    include: ['test/fault/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 90_000,
    pool: 'forks',
  },
});
