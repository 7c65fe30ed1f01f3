import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "relay-source" export
// condition), so `vitest run` needs no build of the libraries. Service processes spawned by
// end-to-end tests run the built `dist/` files: `npm test` builds first.
export default defineConfig({
  resolve: { conditions: ['relay-source', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['relay-source', 'node', 'import', 'default'] } },
  test: {
    include: ['contracts/**/*.test.ts', 'libs/**/*.test.ts', 'services/**/*.test.ts', 'test/**/*.test.ts'],
    // test/fault restarts Postgres and Redis: it runs alone, in its own phase (vitest.fault.config.ts).
    exclude: ['**/node_modules/**', '**/dist/**', 'test/fault/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: [],
  },
});
