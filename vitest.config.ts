import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    setupFiles: ['test/support/cleanup.ts'],
    // Several e2e tests start a whole sandbox (Kubernetes, PostgreSQL, Neo4j, S3) through the CLI:
    // about 12 s alone, more on a busy 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // e2e suites start real servers (PostgreSQL, s3rver); two cores here.
    fileParallelism: true,
    maxWorkers: 2,
    // End-to-end suites race real servers and Jobs on a 2-core machine; in CI a test gets one more try
    // (vitest reports the retry), so a load spike does not block a landing. Locally nothing is retried.
    retry: process.env.CI ? 1 : 0,
  },
});
