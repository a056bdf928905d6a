import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processorBundling } from '../../cdk/processor-bundling.ts';
import { PROJECT_ROOT } from '../../cdk/project-root.ts';
import { initProcessHandler } from '../../functions/process.ts';
import { ReplyKeySecretError } from '../../lib/aws/reply-key-secret.ts';
import { mailbox } from '../../lib/index.ts';
import { DEV_REPLY_KEY, InsecureReplyKeyError } from '../../lib/routing/index.ts';
import { TEST_REPLY_KEY } from '../support/reply-key.ts';

// A stand-in for the Secrets Manager endpoint (JSON protocol over HTTP on 127.0.0.1), reached by the real
// SDK client; it answers every GetSecretValue with `secretString`.
let server: Server;
let endpoint: string;
let secretString: string | undefined = TEST_REPLY_KEY;
const requests: Array<{ target: string | undefined; body: unknown }> = [];
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mailroom-reply-key-AbCdEf';

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => {
      data += c.toString();
    });
    req.on('end', () => {
      requests.push({
        target: req.headers['x-amz-target'] as string | undefined,
        body: JSON.parse(data || '{}'),
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ ARN: SECRET_ARN, SecretString: secretString }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const baseEnv = { MAILROOM_RAW_BUCKET: 'mailroom-raw', MAILROOM_TABLE: 'mailroom', AWS_REGION: 'us-east-1' };
const configWith = (key: string) => ({
  domains: ['example.com'],
  replyAddress: { keys: { a: key }, currentKeyId: 'a' },
  routes: [
    { match: 'reply+{token}@example.com', replyToken: { param: 'token' }, action: mailbox('replies') },
  ],
});
const secrets = () =>
  new SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

describe('initProcessHandler (the Lambda init)', () => {
  it('refuses the development reply key with one line naming the setting', async () => {
    const error = await initProcessHandler({ env: { ...baseEnv }, config: configWith(DEV_REPLY_KEY) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InsecureReplyKeyError);
    expect((error as Error).message).toMatch(
      /^reply key "a" \(replyAddress\.keys\.a\) is the development key; /,
    );
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses a short key', async () => {
    await expect(
      initProcessHandler({ env: { ...baseEnv }, config: configWith('sixteen-chars-ok-for-dev') }),
    ).rejects.toThrow(/is 24 characters long; production needs 32\+/);
  });

  it('builds the handler with a strong key', async () => {
    const handle = await initProcessHandler({ env: { ...baseEnv }, config: configWith(TEST_REPLY_KEY) });
    expect(typeof handle).toBe('function');
  });

  it('reads MAILROOM_REPLY_KEY_SECRET_ARN into MAILROOM_REPLY_KEY before the config is used', async () => {
    requests.length = 0;
    secretString = TEST_REPLY_KEY;
    const env: Record<string, string | undefined> = { ...baseEnv, MAILROOM_REPLY_KEY_SECRET_ARN: SECRET_ARN };
    await initProcessHandler({ env, config: configWith(TEST_REPLY_KEY), secrets: secrets() });
    expect(env.MAILROOM_REPLY_KEY).toBe(TEST_REPLY_KEY);
    expect(requests).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: SECRET_ARN } }]);
  });

  it.each<[string, string | undefined, Record<string, string>, RegExp]>([
    ['an empty secret', '', {}, /has no SecretString$/],
    ['a JSON secret', '{"key":"x"}', {}, /holds JSON; store the key itself/],
    ['both the key and the secret set', TEST_REPLY_KEY, { MAILROOM_REPLY_KEY: 'x' }, /are both set/],
  ])('refuses %s, never printing the value', async (_label, value, extra, message) => {
    secretString = value;
    const env = { ...baseEnv, MAILROOM_REPLY_KEY_SECRET_ARN: SECRET_ARN, ...extra };
    const error = await initProcessHandler({
      env,
      config: configWith(TEST_REPLY_KEY),
      secrets: secrets(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyKeySecretError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(TEST_REPLY_KEY);
    secretString = TEST_REPLY_KEY;
  });
});

/**
 * The deployed processor bundle (the CDK's esbuild options, example config aliased in), imported by a
 * fresh Node process as Lambda's init imports it: the secret must reach the example config, which reads
 * MAILROOM_REPLY_KEY when it loads.
 */
describe('the processor bundle at Lambda init', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(PROJECT_ROOT, '.processor-init-test-'));
    bundle = join(dir, 'index.mjs');
    const options = processorBundling({ configFile: join(PROJECT_ROOT, 'examples', 'mailroom.config.ts') });
    const alias = Object.fromEntries(
      Object.entries(options.esbuildArgs ?? {}).map(([flag, file]) => [
        flag.replace('--alias:', ''),
        String(file),
      ]),
    );
    await build({
      entryPoints: [join(PROJECT_ROOT, 'functions', 'process.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: options.target,
      format: 'esm',
      mainFields: options.mainFields,
      external: options.externalModules,
      alias,
      banner: { js: options.banner ?? '' },
      logLevel: 'error',
    });
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function init(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
    const script = `await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.error('init done');`;
    const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...baseEnv, ...env };
    Object.assign(childEnv, {
      AWS_LAMBDA_FUNCTION_NAME: 'mailroom-processor',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_EC2_METADATA_DISABLED: 'true',
      MAILROOM_LOG_LEVEL: 'silent',
    });
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { cwd: dir, env: childEnv, timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stderr }),
      );
    });
  }

  it('fails the init with the development key', { timeout: 90_000 }, async () => {
    const { code, stderr } = await init({});
    expect(code).not.toBe(0);
    expect(stderr).toContain('InsecureReplyKeyError');
    expect(stderr).toContain(
      'reply key "a" (replyAddress.keys.a) is the development key; set MAILROOM_REPLY_KEY',
    );
    expect(stderr).not.toContain('init done');
  });

  it('starts with the key from Secrets Manager', { timeout: 90_000 }, async () => {
    requests.length = 0;
    const { code, stderr } = await init({
      MAILROOM_REPLY_KEY_SECRET_ARN: SECRET_ARN,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    });
    expect(stderr).toContain('init done');
    expect(code).toBe(0);
    expect(requests).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: SECRET_ARN } }]);
  });
});
