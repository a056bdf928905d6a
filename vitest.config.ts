import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The processor Lambda imports the user's config as `mailroom-config` (the CDK bundles the real file).
    alias: { 'mailroom-config': fileURLToPath(new URL('./examples/mailroom.config.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // `npm run test:hostile` (vitest.hostile.config.ts) runs these alone, one file at a time.
    exclude: ['test/hostile/**', '**/node_modules/**'],
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
