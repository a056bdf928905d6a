import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/errors.ts';
import { applySmtpEnv, refuseInsecureReplyKeys } from '../../../lib/cli/smtp-env.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { DEV_REPLY_KEY } from '../../../lib/routing/index.ts';
import { mailroomBin, projectRoot, waitFor } from '../../support/mailroom-process.ts';
import { TEST_REPLY_KEY } from '../../support/reply-key.ts';

const exampleConfig = join(projectRoot, 'examples/mailroom.config.ts');
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-reply-key-'));
  dirs.push(dir);
  return dir;
}

/** `mailroom <args>` as a child process, as the container runs it: config and key from the environment. */
function start(args: string[], env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    MAILROOM_CONFIG: exampleConfig,
    MAILROOM_LOG_LEVEL: 'warn',
    MAILROOM_SMTP_HOST: '127.0.0.1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...env,
  };
  if (!('MAILROOM_REPLY_KEY' in env)) delete childEnv.MAILROOM_REPLY_KEY;
  for (const name of ['MAILROOM_RAW_BUCKET', 'MAILROOM_S3_ENDPOINT']) delete childEnv[name];
  const child = spawn(process.execPath, [mailroomBin, ...args], {
    cwd: tmpdir(),
    env: childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, stderr: () => stderr };
}

const DEV_KEY_LINE =
  'mailroom smtp: reply key "a" (replyAddress.keys.a) is the development key; set MAILROOM_REPLY_KEY ' +
  '(read by the example config) or your own key source to 32+ random characters, e.g. `openssl rand -base64 32`\n';

/** The Dockerfile's CMD, with its data folder moved to a temporary one (the image's /app is the project). */
function dockerCommand(data: string): string[] {
  const cmd = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8').match(/^CMD (\[.*\])$/m)?.[1];
  const argv = JSON.parse(cmd ?? '[]') as string[];
  expect(argv.slice(0, 3)).toEqual(['node', 'bin/mailroom.js', 'smtp']);
  return argv.slice(2).map((a) => (a === '/tmp/mailroom' ? data : a));
}

describe('mailroom smtp refuses a development reply key', () => {
  it.each<[string, () => string[]]>([
    ['local mode', () => ['smtp', '--port', '0', '--data', dataDir()]],
    [
      'S3 mode (before reaching S3)',
      () => ['smtp', '--port', '0', '--s3-bucket', 'mailroom-raw', '--s3-endpoint', 'http://127.0.0.1:9'],
    ],
    ["the Docker image's command", () => [...dockerCommand(dataDir()), '--port', '0']],
  ])('%s: exit 2 with one line naming the setting', { timeout: 60_000 }, async (_label, args) => {
    const run = start(args(), {});
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe(DEV_KEY_LINE);
  });

  it('also when MAILROOM_REPLY_KEY is set but blank, or short', { timeout: 60_000 }, async () => {
    const blank = start(['smtp', '--port', '0', '--data', dataDir()], { MAILROOM_REPLY_KEY: '' });
    expect(await blank.exited).toBe(2);
    expect(blank.stderr()).toBe(DEV_KEY_LINE);
    const short = start(['smtp', '--port', '0', '--data', dataDir()], {
      MAILROOM_REPLY_KEY: 'only-twenty-chars-xy',
    });
    expect(await short.exited).toBe(2);
    expect(short.stderr()).toMatch(
      /^mailroom smtp: reply key "a" \(replyAddress\.keys\.a\) is 20 characters long; production needs 32\+; set MAILROOM_REPLY_KEY[^\n]*\n$/,
    );
  });

  it('starts with a strong key and stops cleanly', { timeout: 60_000 }, async () => {
    const run = start(['smtp', '--port', '0', '--data', dataDir()], { MAILROOM_REPLY_KEY: TEST_REPLY_KEY });
    await waitFor(async () => /mailroom smtp: SMTP on 127\.0\.0\.1:\d+/.test(run.stderr()), 'smtp listening');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).not.toMatch(/reply key/);
  });

  it('mailroom dev still runs with the development key', { timeout: 60_000 }, async () => {
    const run = start(
      ['dev', '--config', exampleConfig, '--smtp-port', '0', '--http-port', '0', '--data', dataDir()],
      {},
    );
    await waitFor(async () => /mailroom dev: SMTP on /.test(run.stderr()), 'dev listening');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});

describe('refuseInsecureReplyKeys / applySmtpEnv', () => {
  const withKey = (key: string) =>
    resolveConfig({
      domains: ['example.com'],
      routes: [],
      replyAddress: { keys: { k: key }, currentKeyId: 'k' },
    });

  it('turns a weak key into a CliError with exit code 2, before any other setting', () => {
    for (const run of [
      () => refuseInsecureReplyKeys(withKey(DEV_REPLY_KEY)),
      () => applySmtpEnv(withKey(DEV_REPLY_KEY), { MAILROOM_PROXY_TRUSTED: 'nope' }),
    ]) {
      expect(run).toThrow(CliError);
      try {
        run();
      } catch (err) {
        expect((err as CliError).exitCode).toBe(2);
        expect((err as Error).message).toMatch(
          /^reply key "k" \(replyAddress\.keys\.k\) is the development key;/,
        );
      }
    }
  });

  it('lets strong keys and configs without reply addresses through', () => {
    expect(() => applySmtpEnv(withKey(TEST_REPLY_KEY), {})).not.toThrow();
    expect(() => applySmtpEnv(resolveConfig({ domains: ['example.com'], routes: [] }), {})).not.toThrow();
  });
});
