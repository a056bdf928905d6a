import { defineConfig } from 'vitest/config';

/**
 * `npm run test:consumer`: packs Mailroom, installs the tarball into projects outside the repository and uses
 * it the way a user does (test/consumer/). Slow (installs, builds, synths), so it runs on its own.
 */
export default defineConfig({
  test: {
    include: ['test/consumer/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
