import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageCursor } from '../../../lib/store/index.ts';
import { mailroom } from '../../support/mailroom-in-process.ts';

/**
 * `mailroom messages` / `mailroom message` against a loopback stand-in of the read API's Function URL that
 * checks each request's SigV4 signature (service `lambda`) by signing the same request again, and
 * redirects attachments to an unsigned "presigned" path the way the real API redirects to S3.
 */
const CREDENTIALS = { accessKeyId: 'AKIDCLITEST', secretAccessKey: 'cli-test-secret' };
const REGION = 'eu-west-1';
const summary = (id: string, receivedAt: string) => ({
  id,
  receivedAt,
  envelope: { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] },
  subject: `Subject of ${id}`,
  from: { address: 'alice@example.net', name: 'Alice' },
  status: 'processed',
  size: 10,
  threadId: null,
  deliveries: [],
});
const pdf = Buffer.from('%PDF-1.7 not really');

let server: Server;
let url: string;
const seen: Array<{ path: string; signed: boolean; valid: boolean }> = [];
const saved = { ...process.env };

async function validSignature(req: IncomingMessage, target: URL): Promise<boolean> {
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signer = new SignatureV4({
    service: 'lambda',
    region: REGION,
    credentials: CREDENTIALS,
    // the signer's hash: SHA-256, or HMAC-SHA-256 when given a key (written here independently of the CLI's)
    sha256: class {
      readonly #key: Buffer | undefined;
      #h: Hash | Hmac;
      constructor(key?: SourceData) {
        this.#key = key === undefined ? undefined : Buffer.from(key as Uint8Array);
        this.#h = this.#key === undefined ? createHash('sha256') : createHmac('sha256', this.#key);
      }
      update(d: Uint8Array) {
        this.#h.update(d);
      }
      async digest() {
        return new Uint8Array(this.#h.digest());
      }
      reset() {
        this.#h = this.#key === undefined ? createHash('sha256') : createHmac('sha256', this.#key);
      }
    },
  });
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const again = await signer.sign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers: { host: String(req.headers.host) },
    },
    { signingDate },
  );
  return again.headers.authorization === req.headers.authorization;
}

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const signed = req.headers.authorization !== undefined;
    void (signed ? validSignature(req, target) : Promise.resolve(false)).then((valid) => {
      seen.push({ path: target.pathname, signed, valid: signed && valid });
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
      };
      if (target.pathname === '/presigned/invoice.pdf') return send(200, pdf);
      if (!signed || !valid) return send(403, { Message: 'Forbidden' });
      if (target.pathname === '/api/messages') {
        const page = [summary('m2', '2026-12-02T10:00:00.000Z'), summary('m1', '2026-12-01T10:00:00.000Z')];
        const limit = Number(target.searchParams.get('limit') ?? 100);
        const nextCursor = page.length === limit ? messageCursor(page[1]!) : null;
        return send(200, { messages: page.slice(0, limit), nextCursor, query: target.search });
      }
      if (target.pathname === '/api/messages/m1/attachments/0') {
        return send(302, '', { location: `http://${req.headers.host}/presigned/invoice.pdf` });
      }
      if (target.pathname === '/api/messages/m1') return send(200, summary('m1', '2026-12-01T10:00:00.000Z'));
      return send(404, { error: 'no message nope' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});

afterAll(() => {
  server?.close();
  process.env = saved;
});

describe('mailroom messages / message (SigV4 to the read API)', () => {
  it('lists a page as a table with the cursor of the next one; every request is signed for lambda', async () => {
    const r = await mailroom([
      'messages',
      '--url',
      url,
      '--region',
      REGION,
      '--limit',
      '2',
      '--mailbox',
      'support',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RECEIVED \(UTC\)\s+ID\s+STATUS\s+FROM\s+SUBJECT$/);
    expect(lines[1]).toMatch(/^2026-12-02 10:00:00\s+m2\s+processed\s+alice@example.net\s+Subject of m2$/);
    expect(lines[3]).toBe(
      `more: --before ${messageCursor({ id: 'm1', receivedAt: '2026-12-01T10:00:00.000Z' })}`,
    );
    expect(seen.at(-1)).toEqual({ path: '/api/messages', signed: true, valid: true });
  });

  it('--json prints the response, with the query the API received', async () => {
    const r = await mailroom(['messages', '--url', url, '--region', REGION, '--json', '--before', 'abc']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { messages: unknown[]; query: string };
    expect(body.messages).toHaveLength(2);
    expect(body.query).toBe('?before=abc');
  });

  it('message ID prints the detail; --attachment N follows the redirect without the signature', async () => {
    const detail = await mailroom(['message', 'm1', '--url', url, '--region', REGION]);
    expect(detail.code).toBe(0);
    expect(JSON.parse(detail.stdout)).toMatchObject({ id: 'm1' });
    const out = join(tmpdir(), `mailroom-cli-attachment-${process.pid}.pdf`);
    const r = await mailroom([
      'message',
      'm1',
      '--url',
      url,
      '--region',
      REGION,
      '--attachment',
      '0',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(pdf)).toBe(true);
    rmSync(out, { force: true });
    expect(seen.slice(-2)).toEqual([
      { path: '/api/messages/m1/attachments/0', signed: true, valid: true },
      { path: '/presigned/invoice.pdf', signed: false, valid: false },
    ]);
  });

  it('an API error is one line, exit 1', async () => {
    const r = await mailroom(['message', 'nope', '--url', url, '--region', REGION]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'mailroom message: read API: 404 no message nope\n' });
  });

  it.each([
    [['messages'], 'messages', 'give --stack NAME or --url URL (one of them)'],
    [
      ['messages', '--url', 'URL', '--stack', 'S'],
      'messages',
      'give --stack NAME or --url URL (one of them)',
    ],
    [
      ['messages', '--url', 'URL', '--limit', '0'],
      'messages',
      "--limit must be a whole number above 0, got '0'",
    ],
    [
      ['message', 'm1', '--url', 'URL', '--raw', '--attachment', '1'],
      'message',
      'give --raw or --attachment N, not both',
    ],
    [['message', '--url', 'URL'], 'message', 'give one message id'],
  ])('%j is a usage error', async (argv, name, message) => {
    const r = await mailroom(argv.map((a) => (a === 'URL' ? url : a)));
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`mailroom ${name}: ${message}`);
  });
});
