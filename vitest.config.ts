import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e suites start real servers (PostgreSQL, s3rver); two cores here.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
