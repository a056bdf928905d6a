import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCliConfig } from '../../../lib/cli/config-path.ts';
import { CliError } from '../../../lib/cli/errors.ts';
import { hashPassword } from '../../../lib/submission/index.ts';

// A stand-in for the Secrets Manager endpoint (JSON protocol over HTTP), reached by the real SDK client
// through AWS_ENDPOINT_URL_SECRETS_MANAGER.
let server: Server;
let answer: { status: number; body: unknown } = { status: 200, body: {} };
const requests: Array<{ target: string | undefined; body: unknown }> = [];
let dir: string;
const saved = { ...process.env };

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
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  dir = await mkdtemp(join(tmpdir(), 'mailroom-users-secret-'));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});
afterEach(() => {
  requests.length = 0;
});
afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function configWithSecret(inline: Record<string, string> = {}): Promise<string> {
  const file = join(dir, `mailroom-${requests.length}-${Date.now()}.config.mjs`);
  await writeFile(
    file,
    `export default ${JSON.stringify({
      domains: ['example.com'],
      routes: [{ match: 'support@example.com', action: { kind: 'mailbox', mailbox: 'support' } }],
      smtp: { tls: 'self-signed' },
      submission: { port: 0, users: inline, usersSecret: 'mailroom/submission-users' },
    })};\n`,
  );
  return file;
}

describe('submission.usersSecret', () => {
  it('adds the users kept in Secrets Manager to those of the config', async () => {
    const ada = await hashPassword('correct horse battery staple');
    const bob = await hashPassword('another long password');
    answer = {
      status: 200,
      body: { Name: 'mailroom/submission-users', SecretString: JSON.stringify({ ada }) },
    };
    const config = await loadCliConfig(await configWithSecret({ bob }));
    expect(config.submission?.users).toEqual({ bob, ada });
    expect(requests).toEqual([
      { target: 'secretsmanager.GetSecretValue', body: { SecretId: 'mailroom/submission-users' } },
    ]);
  });

  it('stops with one line naming the setting when the secret cannot be read', async () => {
    answer = {
      status: 400,
      body: {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      },
    };
    const error = await loadCliConfig(await configWithSecret()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(
      /^submission\.usersSecret: cannot read mailroom\/submission-users: /,
    );
    expect((error as CliError).message).not.toContain('\n');
  });
});
