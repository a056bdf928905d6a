import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * mailauth (with undici, joi, tldts, encoding tables) takes ~0.5 s to load. A process that authenticates
 * what it processes loads it at start, not on its event loop in the middle of the first message (a stall
 * that showed as the p99 of a 20 s latency run). Checked in a fresh process: nothing else loaded it there.
 */
const SCRIPT = `
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { startLocalMailroom } = await import(process.env.LIB + '/dev/index.ts');
const { resolveConfig } = await import(process.env.LIB + '/config/index.ts');
const { silentLogger } = await import(process.env.LIB + '/kernel/index.ts');
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\\\/]mailauth[\\\\/]lib[\\\\/]mailauth\\.js$/.test(k));
const before = loaded();
const config = resolveConfig({ domains: ['example.com'], dataDir: mkdtempSync(join(tmpdir(), 'mailroom-preload-')), smtp: { host: '127.0.0.1', port: 0 }, routes: [] });
const mailroom = await startLocalMailroom({ config, logger: silentLogger, http: false, prune: false });
const after = loaded();
await mailroom.close();
console.log(JSON.stringify({ before, after }));
`;

describe('authentication is loaded at start', () => {
  it('startLocalMailroom loads mailauth before the first message', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', SCRIPT],
      { env: { ...process.env, LIB: join(import.meta.dirname, '../../lib') }, timeout: 120_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ before: false, after: true });
  });
});
