import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run test:hostile`: attacks on a real `mailroom smtp` process (test/hostile/). They measure whether
 * well-behaved senders are still served, so they run alone: one file at a time, nothing else in parallel.
 * (Not merged with mergeConfig: that would concatenate the base config's `exclude`, which names these files.)
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/hostile/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    env: base.test?.env,
  },
});
