/**
 * Issue 13 on AWS, against s3rver and dynalite over loopback HTTP: the processing Lambda keeps a message's
 * attachments (a PDF, an inline image, a forwarded message) once each under `attachments/` in the mail
 * bucket, a second message with the same PDF adds no object, and the read API's handler (through its
 * Function URL entry) lists, pages, reads, and redirects to presigned URLs that s3rver serves.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessHandler } from '../../../functions/process.ts';
import { createReadApiLambdaHandler, type FunctionUrlResult } from '../../../functions/read-api.ts';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { S3RawStore } from '../../../lib/aws/s3-raw-store.ts';
import { defineMailroom, mailbox } from '../../../lib/index.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import type { MessageDetail, MessageSummary } from '../../../lib/store/index.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';
import { s3ObjectCreated, sqsEvent, sqsRecord } from '../../fixtures/aws/aws-events.ts';
import {
  type DynaliteHandle,
  dynamoClientFor,
  type S3rverHandle,
  s3ClientFor,
  startDynalite,
  startS3rver,
} from '../../support/aws-emulators.ts';

const BUCKET = 'mailroom-mail';
const TABLE = 'mailroom-read-api';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** The 20 MB PDF: a message carrying it is answered by a redirect, not inline. */
const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(20_000_000)]);
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(3000)]);
const forwarded = 'From: a@example.net\r\nTo: b@example.com\r\nSubject: the original\r\n\r\nForwarded.\r\n';

let s3rver: S3rverHandle;
let dynalite: DynaliteHandle;
let s3: S3Client;
let dynamo: DynamoDBClient;
let processEvent: (event: unknown) => Promise<unknown>;
let readApi: (event: unknown) => Promise<FunctionUrlResult>;
let clock = Date.parse('2026-12-01T09:00:00.000Z');
const rawBytes = new Map<string, Buffer>();

const config = defineMailroom({
  domains: ['example.com'],
  auth: { dns: {} },
  attachments: { urlExpiresIn: 600 },
  routes: [{ name: 'support', match: 'support@example.com', action: mailbox('support') }],
});

beforeAll(async () => {
  [s3rver, dynalite] = await Promise.all([startS3rver({ buckets: [BUCKET] }), startDynalite()]);
  s3 = s3ClientFor(s3rver.endpoint);
  dynamo = dynamoClientFor(dynalite.endpoint);
  await createMessageTable(dynamo, TABLE);
  const env = { MAILROOM_RAW_BUCKET: BUCKET, MAILROOM_TABLE: TABLE };
  processEvent = createProcessHandler({
    config,
    env,
    s3,
    dynamo,
    logger: silentLogger,
    emit: async () => {},
  });
  readApi = createReadApiLambdaHandler({ env: { ...env, MAILROOM_URL_EXPIRES_IN: '300' }, s3, dynamo });
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  dynamo?.destroy();
  await Promise.all([s3rver?.close(), dynalite?.close()]);
});

async function compose(subject: string, withAll: boolean, withPdf = true): Promise<Buffer> {
  return new MailComposer({
    from: 'sender@example.net',
    to: 'support@example.com',
    subject,
    text: 'See attached.',
    html: withAll ? '<p>See attached.</p><img src="cid:logo@example.net">' : '<p>Hello.</p>',
    attachments: [
      ...(withPdf ? [{ filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' }] : []),
      ...(withAll
        ? [
            { filename: 'logo.png', content: png, contentType: 'image/png', cid: 'logo@example.net' },
            { filename: 'original.eml', content: forwarded, contentType: 'message/rfc822' },
          ]
        : []),
    ],
  })
    .compile()
    .build();
}

/** Stores the message as `mailroom smtp` does and runs the processor on its S3 event. */
async function deliver(raw: Buffer): Promise<string> {
  clock += 60_000;
  const at = clock;
  const store = new S3RawStore({ client: s3, bucket: BUCKET, now: () => new Date(at) });
  const id = newMessageId();
  const envelope = { mailFrom: 'sender@example.net', rcptTo: ['support@example.com'] };
  const { size } = await store.put(id, raw, { envelope });
  const out = (await processEvent(sqsEvent(sqsRecord(s3ObjectCreated(BUCKET, store.keyFor(id), size))))) as {
    batchItemFailures: unknown[];
  };
  expect(out.batchItemFailures).toEqual([]);
  rawBytes.set(id, raw);
  return id;
}

async function objectsUnder(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function get(path: string, method = 'GET'): Promise<FunctionUrlResult> {
  const [rawPath = '', rawQueryString = ''] = path.split('?');
  return readApi({ rawPath, rawQueryString, requestContext: { http: { method } } });
}

async function getJson<T>(path: string): Promise<T> {
  const res = await get(path);
  expect(res.statusCode, res.body).toBe(200);
  return JSON.parse(res.body) as T;
}

async function download(url: string): Promise<{ status: number; body: Buffer; type: string | null }> {
  const res = await fetch(url);
  return {
    status: res.status,
    body: Buffer.from(await res.arrayBuffer()),
    type: res.headers.get('content-type'),
  };
}

// A 20 MB attachment through the emulators takes seconds on a quiet machine and much longer on a loaded one.
describe('attachments and the read API on AWS (s3rver + dynalite)', { timeout: 180_000 }, () => {
  let first: string;
  /** The index of the first message's attachment of this type. */
  let indexOf: (contentType: string) => number = () => -1;

  it('keeps each attachment once under attachments/; the same PDF again adds no object', async () => {
    first = await deliver(await compose('invoice with everything', true));
    const stored = (await objectsUnder('attachments/')).filter((k) => !k.startsWith('attachments/.tmp/'));
    const detail = await getJson<MessageDetail>(`/api/messages/${first}`);
    const attachments = detail.parsed?.attachments ?? [];
    expect(attachments.map((a) => a.contentType).sort()).toEqual([
      'application/pdf',
      'image/png',
      'message/rfc822',
    ]);
    expect(attachments.every((a) => a.stored)).toBe(true);
    expect(attachments.find((a) => a.contentType === 'image/png')?.related).toBe(true);
    expect(stored).toEqual(attachments.map((a) => `attachments/${a.sha256}`).sort());
    expect(attachments.find((a) => a.contentType === 'application/pdf')?.sha256).toBe(sha256(pdf));
    indexOf = (type) => attachments.findIndex((a) => a.contentType === type);

    await deliver(await compose('the same invoice again', false));
    expect(await objectsUnder('attachments/')).toEqual(stored);
  }, 120_000);

  it('redirects to presigned URLs that s3rver serves with the exact bytes', async () => {
    const expected = [
      { body: pdf, type: 'application/pdf' },
      { body: png, type: 'image/png' },
      { body: Buffer.from(forwarded), type: 'message/rfc822' },
    ];
    for (const want of expected) {
      const n = indexOf(want.type);
      expect(n).toBeGreaterThanOrEqual(0);
      const res = await get(`/api/messages/${first}/attachments/${n}`);
      expect(res.statusCode).toBe(302);
      const location = res.headers.location ?? '';
      expect(location).toMatch(/X-Amz-Expires=300/);
      const fetched = await download(location);
      expect(fetched.status).toBe(200);
      expect(fetched.type).toBe(want.type);
      expect(sha256(fetched.body)).toBe(sha256(want.body));
    }
    expect((await get(`/api/messages/${first}/attachments/3`)).statusCode).toBe(404);
  }, 60_000);

  it('answers raw bytes inline (base64) when small and by redirect when large', async () => {
    const small = await deliver(await compose('small one', false, false));
    const inline = await get(`/api/messages/${small}/raw`);
    expect(inline.statusCode).toBe(200);
    expect(inline.isBase64Encoded).toBe(true);
    expect(inline.headers['content-type']).toBe('message/rfc822');
    expect(Buffer.from(inline.body, 'base64').equals(rawBytes.get(small) ?? Buffer.alloc(0))).toBe(true);
    const large = await get(`/api/messages/${first}/raw`);
    expect(large.statusCode).toBe(302);
    const fetched = await download(large.headers.location ?? '');
    expect(sha256(fetched.body)).toBe(sha256(rawBytes.get(first) ?? Buffer.alloc(0)));
  }, 60_000);

  it('pages the listing and the mailbox newest first: no duplicates, no gaps', async () => {
    for (let i = 0; i < 4; i++) await deliver(await compose(`note ${i}`, false, false));
    const newestFirst = [...rawBytes.keys()].reverse(); // delivered one minute apart, in this order
    expect(newestFirst.length).toBe(7);
    const listed = await allPages<MessageSummary>(
      '/api/messages?limit=2',
      (b) => b.messages,
      (m) => m.id,
    );
    expect(listed.pages).toBeGreaterThanOrEqual(4);
    expect(listed.ids).toEqual(newestFirst);
    const box = await allPages<{ messageId: string }>(
      '/api/mailboxes/support?limit=3',
      (b) => b.entries,
      (e) => e.messageId,
    );
    expect(box.pages).toBe(3);
    expect(box.ids).toEqual(newestFirst);
  }, 120_000);

  it('is read-only and says what is wrong as JSON', async () => {
    const post = await get('/api/messages', 'POST');
    expect(post.statusCode).toBe(405);
    expect(JSON.parse(post.body)).toEqual({ error: expect.stringMatching(/read-only/) });
    expect((await get('/api/messages/nope')).statusCode).toBe(404);
    expect((await get('/api/nothing')).statusCode).toBe(404);
    expect((await get('/api/messages?before=garbage')).statusCode).toBe(400);
    expect((await get('/api/messages?limit=0')).statusCode).toBe(400);
    const head = await get(`/api/messages/${first}`, 'HEAD');
    expect([head.statusCode, head.body]).toEqual([200, '']);
    expect((await readApi({ not: 'an event' })).statusCode).toBe(400);
  });
});

/** Follows `nextCursor` from `start` until it is null; the ids in order and the number of pages. */
async function allPages<T>(
  start: string,
  rows: (body: { messages: T[]; entries: T[] }) => T[],
  idOf: (row: T) => string,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const body: { messages: T[]; entries: T[]; nextCursor: string | null } = await getJson(
      cursor === null ? start : `${start}&before=${encodeURIComponent(cursor)}`,
    );
    ids.push(...rows(body).map(idOf));
    cursor = body.nextCursor;
    pages += 1;
  } while (cursor !== null && pages < 20);
  return { ids, pages };
}
