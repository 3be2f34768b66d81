import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every place tests live: next to the code and the end-to-end suites under test/.
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**', 'db/generated/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests share one Temporal dev server; files run in parallel on 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
