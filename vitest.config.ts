import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // The processor Lambda imports the user's config as `mailroom-config` (the CDK bundles the real file).
    // `mailroom` and its subpaths (what users and examples/ import) are the sources here, not dist/.
    alias: [
      { find: 'mailroom-config', replacement: source('./examples/mailroom.config.ts') },
      { find: /^mailroom$/, replacement: source('./lib/index.ts') },
      { find: /^mailroom\/testing$/, replacement: source('./lib/testing/index.ts') },
      { find: /^mailroom\/aws$/, replacement: source('./lib/aws/index.ts') },
      { find: /^mailroom\/cdk$/, replacement: source('./cdk/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // `npm run test:hostile` and `npm run test:consumer` run these alone (their own configs).
    exclude: ['test/hostile/**', 'test/consumer/**', 'test/browser/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    env: {
      // Tests never touch real DNS: `mailroom` processes the tests start answer every question of
      // message authentication from this (empty) zone unless a test gives its own.
      MAILROOM_DNS_ZONE: fileURLToPath(new URL('./test/fixtures/dns/empty-zone.json', import.meta.url)),
    },
  },
});
