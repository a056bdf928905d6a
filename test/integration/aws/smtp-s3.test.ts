import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createTransport } from 'nodemailer';
import S3rver from 's3rver';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3RawStore } from '../../../lib/aws/s3-raw-store.ts';
import { MESSAGE_ID_PATTERN } from '../../../lib/store/message-id.ts';
import { devCertificate } from '../../../lib/tls/dev-certificate.ts';
import {
  EMULATOR_CREDENTIALS,
  type S3rverHandle,
  s3ClientFor,
  startS3rver,
} from '../../support/aws-emulators.ts';
import { mailroomBin, projectRoot, waitFor } from '../../support/mailroom-process.ts';
import { TEST_REPLY_KEY } from '../../support/reply-key.ts';
import { expectCode, RawSmtpClient } from '../smtp/helpers.ts';

const BUCKET = 'mailroom-raw';
const SWAKS = '/usr/bin/swaks';
const haveSwaks = existsSync(SWAKS);
if (!haveSwaks)
  console.warn(`smtp-s3 tests: ${SWAKS} is not installed (apt-get install swaks): swaks cases skipped`);

interface SmtpS3Process {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

const running: SmtpS3Process[] = [];
const clients: S3Client[] = [];

/** `mailroom smtp` in S3 mode as a child process, the way the container runs it (config from the env). */
async function startSmtpS3(endpoint: string, env: Record<string, string> = {}, args: string[] = []) {
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    MAILROOM_CONFIG: join(projectRoot, 'examples/mailroom.config.ts'),
    MAILROOM_LOG_LEVEL: 'warn',
    MAILROOM_REPLY_KEY: TEST_REPLY_KEY,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...env,
  };
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'MAILROOM_RAW_BUCKET', 'MAILROOM_S3_ENDPOINT']) {
    if (!(name in env)) delete childEnv[name];
  }
  const child = spawn(
    process.execPath,
    [
      mailroomBin,
      'smtp',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--s3-bucket',
      BUCKET,
      '--s3-endpoint',
      endpoint,
      ...args,
    ],
    { cwd: tmpdir(), env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => r(code ?? signal ?? -1)),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const port = await waitFor(async () => {
    if (gone) throw new Error(`mailroom smtp exited:\n${err}`);
    const m = err.match(/mailroom smtp: SMTP on 127\.0\.0\.1:(\d+), storing mail in s3:\/\/([^ ]+) /);
    return m ? Number(m[1]) : null;
  }, 'mailroom smtp to listen');
  const proc: SmtpS3Process = {
    child,
    port,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  running.push(proc);
  return proc;
}

function swaks(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(SWAKS, ['--timeout', '30', ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

function storeFor(endpoint: string): S3RawStore {
  const client = s3ClientFor(endpoint);
  clients.push(client);
  return new S3RawStore({ client, bucket: BUCKET, prefix: 'smtp/' });
}

async function allKeys(endpoint: string): Promise<string[]> {
  const client = s3ClientFor(endpoint);
  clients.push(client);
  const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

function queuedId(text: string): string {
  const m = text.match(/250 2\.0\.0 Ok: queued as (\S+)/);
  if (!m) throw new Error(`no 250 queued line in:\n${text}`);
  return m[1]!;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

afterAll(() => {
  for (const c of clients) c.destroy();
});

describe('mailroom smtp in S3 mode (child process, s3rver)', () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    s3 = await startS3rver({ buckets: [BUCKET] });
  });
  afterAll(async () => {
    await s3?.close();
  });

  it.skipIf(!haveSwaks)(
    'answers 250 only once the message and its envelope and verdicts are in S3',
    async () => {
      const mr = await startSmtpS3(s3.endpoint);
      expect(mr.stderr()).toMatch(
        /storing mail in s3:\/\/mailroom-raw\/smtp\/ \(region us-east-1 via http:\/\/127\.0\.0\.1:\d+\)/,
      );
      const store = storeFor(s3.endpoint);
      const r = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(mr.port),
        '--helo',
        'client.sender.test',
        '--from',
        'alice@sender.test',
        '--to',
        'support@example.com',
        '--header',
        'Subject: stored in S3',
        '--body',
        'Hello from swaks.',
      ]);
      expect(r.code, r.out).toBe(0);
      const id = queuedId(r.out);
      expect(id).toMatch(MESSAGE_ID_PATTERN);
      // Right after the 250: the object is there under the id the 250 named, with its metadata.
      expect(await store.list()).toContain(id);
      const { data, meta } = await store.getWithMeta(id);
      expect(meta?.envelope).toEqual({
        mailFrom: 'alice@sender.test',
        rcptTo: ['support@example.com'],
        remoteAddress: '127.0.0.1',
        helo: 'client.sender.test',
      });
      expect(Date.parse(meta!.receivedAt)).toBeGreaterThan(Date.now() - 60_000);
      // End-of-DATA authentication is on: the verdicts travel with the message (the Lambda needs no DNS).
      expect(meta?.auth).toMatchObject({ source: 'mailauth', spf: { clientIp: '127.0.0.1' } });
      const text = data.toString('utf8');
      expect(text).toMatch(/^Authentication-Results: mailroom\.local;[\s\S]*?\r\nReceived: from /);
      expect(text).toContain('Subject: stored in S3');
      expect(text).toContain('Hello from swaks.');
      // Unknown recipients are still refused at RCPT time, before anything is stored.
      const refused = await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(mr.port),
        '--from',
        'alice@sender.test',
        '--to',
        'nobody@example.com',
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.out).toMatch(/550 5\.1\.1/);
      expect(await store.list()).toEqual([id]);
      expect(await mr.stop()).toBe(0);
    },
  );

  it('routes a multi-recipient envelope (not the headers) into the metadata', async () => {
    const mr = await startSmtpS3(s3.endpoint);
    const store = storeFor(s3.endpoint);
    const info = await createTransport({
      host: '127.0.0.1',
      port: mr.port,
      secure: false,
      ignoreTLS: true,
    }).sendMail({
      envelope: {
        from: 'bounces@lists.sender.test',
        to: [
          'support@example.com',
          'postmaster@example.com',
          'nobody@example.com',
          'support+orders@example.com',
        ],
      },
      raw: 'From: list@lists.sender.test\r\nTo: list@lists.sender.test\r\nSubject: list mail\r\n\r\nhello\r\n',
    });
    expect(info.rejected).toEqual(['nobody@example.com']);
    const id = queuedId(info.response);
    const meta = await store.getMeta(id);
    expect(meta?.envelope).toMatchObject({
      mailFrom: 'bounces@lists.sender.test',
      rcptTo: ['support@example.com', 'postmaster@example.com', 'support+orders@example.com'],
    });
    expect(meta?.auth?.source).toBe('mailauth');
  });

  it('finishes a message in the middle of DATA on SIGTERM, stores it, then exits 0', async () => {
    const mr = await startSmtpS3(s3.endpoint);
    const store = storeFor(s3.endpoint);
    const { client } = await RawSmtpClient.open(mr.port);
    await expectCode(client.command('MAIL FROM:<alice@sender.test>'), 250);
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    client.write('Subject: in flight\r\n\r\n');
    for (let i = 0; i < 200; i++) client.write(`${'x'.repeat(998)}\r\n`);
    mr.child.kill('SIGTERM');
    // The server is stopping but lets this DATA finish.
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 200; i++) client.write(`${'y'.repeat(998)}\r\n`);
    client.write('.\r\n');
    const reply = await expectCode(client.reply(), 250);
    const id = queuedId(reply.text);
    expect(await store.getEnvelope(id)).toMatchObject({ rcptTo: ['support@example.com'] });
    expect((await store.get(id)).toString('latin1')).toMatch(/y{998}\r\n$/);
    expect(await mr.exited).toBe(0);
  });

  it('takes TLS and PROXY settings from the environment', async () => {
    const certDir = await mkdtemp(join(tmpdir(), 'mailroom-smtp-s3-tls-'));
    try {
      const { cert, key } = await devCertificate(certDir, 'mx.example.com');
      const mr = await startSmtpS3(s3.endpoint, {
        MAILROOM_TLS_CERT: cert,
        MAILROOM_TLS_KEY: key.replace(/\n/g, '\\n'), // one line, as some secret stores keep it
        MAILROOM_PROXY_TRUSTED: '10.0.0.0/8, 127.0.0.1',
      });
      const store = storeFor(s3.endpoint);
      const { client, greeting } = await RawSmtpClient.connect(
        mr.port,
        'PROXY TCP4 203.0.113.7 10.0.0.1 40000 25\r\n',
      );
      expect(greeting.code).toBe(220);
      const ehlo = await expectCode(client.command('EHLO client.test'), 250);
      expect(ehlo.text).toMatch(/STARTTLS/);
      const reply = await client.send(
        'alice@sender.test',
        ['support@example.com'],
        'Subject: via the load balancer\r\n\r\nhi\r\n.\r\n',
      );
      expect(reply.code).toBe(250);
      const meta = await store.getMeta(queuedId(reply.text));
      expect(meta?.envelope.remoteAddress).toBe('203.0.113.7');
      expect(meta?.auth?.spf.clientIp).toBe('203.0.113.7');
      client.close();
    } finally {
      await rm(certDir, { recursive: true, force: true });
    }
  });
});

describe('mailroom smtp in S3 mode when S3 fails', () => {
  let directory: string;
  let server: S3rver | null = null;
  let port = 0;

  async function startOn(listenPort: number): Promise<string> {
    server = new S3rver({
      address: '127.0.0.1',
      port: listenPort,
      silent: true,
      directory,
      configureBuckets: [{ name: BUCKET }],
    });
    const address = await server.run();
    port = address.port;
    return `http://127.0.0.1:${port}`;
  }

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'mailroom-smtp-s3-down-'));
  });
  afterAll(async () => {
    await server?.close().catch(() => {});
    await rm(directory, { recursive: true, force: true });
  });

  it.skipIf(!haveSwaks)(
    'answers 451 4.3.0 and records nothing while S3 is down; the retry succeeds',
    async () => {
      const endpoint = await startOn(0);
      const mr = await startSmtpS3(endpoint);
      const send = (subject: string) =>
        swaks([
          '--server',
          '127.0.0.1',
          '--port',
          String(mr.port),
          '--from',
          'alice@sender.test',
          '--to',
          'support@example.com',
          '--header',
          `Subject: ${subject}`,
        ]);
      const first = await send('before the outage');
      expect(first.code, first.out).toBe(0);
      const firstId = queuedId(first.out);

      await server!.close();
      server = null;
      const failed = await send('during the outage');
      expect(failed.code).not.toBe(0);
      expect(failed.out).toMatch(/<\*\* +451 4\.3\.0 /);
      expect(failed.out).not.toMatch(/queued as/);

      // Same directory, same port: only the message from before the outage is there.
      const again = await startOn(port);
      expect(again).toBe(endpoint);
      expect(await allKeys(endpoint)).toEqual([`smtp/${firstId}.eml`]);

      // The sender's retry goes through.
      const retry = await send('during the outage');
      expect(retry.code, retry.out).toBe(0);
      expect(await allKeys(endpoint)).toEqual(
        [`smtp/${firstId}.eml`, `smtp/${queuedId(retry.out)}.eml`].sort(),
      );
      expect(await mr.stop()).toBe(0);
    },
  );
});

describe('mailroom smtp S3 settings errors', () => {
  function runSmtp(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [mailroomBin, 'smtp', '--port', '0', ...args],
        {
          cwd: tmpdir(),
          env: {
            ...process.env,
            MAILROOM_CONFIG: join(projectRoot, 'examples/mailroom.config.ts'),
            MAILROOM_REPLY_KEY: TEST_REPLY_KEY,
            ...env,
          },
          timeout: 30_000,
        },
        (error, _stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr });
        },
      );
    });
  }

  it('refuses a bad bucket name or proxy list with one line naming the culprit', async () => {
    const bucket = await runSmtp(['--s3-bucket', 'Not_A_Bucket'], {});
    expect(bucket.code).toBe(2);
    expect(bucket.stderr).toMatch(/^mailroom smtp: --s3-bucket: 'Not_A_Bucket' is not an S3 bucket name/m);
    const proxy = await runSmtp([], {
      MAILROOM_RAW_BUCKET: 'mailroom-raw',
      MAILROOM_PROXY_TRUSTED: '10.0.0.0/8,nope',
    });
    expect(proxy.code).toBe(2);
    expect(proxy.stderr.trim().split('\n').at(-1)).toBe(
      "mailroom smtp: MAILROOM_PROXY_TRUSTED: not an IP address or CIDR range: 'nope'",
    );
    const tls = await runSmtp([], {
      MAILROOM_TLS_CERT: '/etc/ssl/cert.pem',
      MAILROOM_TLS_KEY: '/etc/ssl/key.pem',
    });
    expect(tls.code).toBe(2);
    expect(tls.stderr).toMatch(/^mailroom smtp: MAILROOM_TLS_CERT must hold PEM text/m);
  });
});
