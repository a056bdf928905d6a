import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:browser`: the dev page in real headless Chromium (playwright-core, /usr/bin/chromium)
 * against a real `mailroom dev` (test/browser/). Not part of `npm test`; .ci/run installs Chromium and runs it.
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    env: {
      MAILROOM_DNS_ZONE: fileURLToPath(new URL('./test/fixtures/dns/empty-zone.json', import.meta.url)),
    },
  },
});
