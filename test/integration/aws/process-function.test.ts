/**
 * The processing Lambda (functions/process.ts) end to end, in-process, against real S3 and DynamoDB APIs
 * served by s3rver and dynalite over loopback HTTP. Events are built as AWS sends them (see
 * test/fixtures/aws/); the third-party SES samples come from the shared corpora when present.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProcessHandler, ProcessEnvError, type ProcessHandler } from '../../../functions/process.ts';
import { mapSesVerdicts, type SesMail, type SesReceipt } from '../../../lib/auth/ses-verdicts.ts';
import type { AuthVerdicts } from '../../../lib/auth/verdicts.ts';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { DynamoMessageStore } from '../../../lib/aws/dynamo-message-store.ts';
import type { MailroomEvent } from '../../../lib/aws/mailroom-events.ts';
import { S3RawStore } from '../../../lib/aws/s3-raw-store.ts';
import type { Logger } from '../../../lib/kernel/index.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';
import {
  s3ObjectCreated,
  s3TestEvent,
  snsEnvelope,
  sqsEvent,
  sqsRecord,
} from '../../fixtures/aws/aws-events.ts';
import testConfig, { ordersBackend } from '../../fixtures/aws/process.config.ts';
import {
  type DynaliteHandle,
  dynamoClientFor,
  type S3rverHandle,
  s3ClientFor,
  startDynalite,
  startS3rver,
} from '../../support/aws-emulators.ts';
import { corporaDir } from '../../support/corpora.ts';

const RAW_BUCKET = 'mailroom-raw';
const fixtures = join(import.meta.dirname, '../../fixtures/aws');
const sesMessage = readFileSync(join(fixtures, 'ses-s3-action.eml'));
const sesNotificationText = readFileSync(join(fixtures, 'ses-s3-action-notification.json'), 'utf8');
/** The parts of an SES notification (or Lambda event record) the tests read and change. */
interface SesNotification {
  notificationType: string;
  content?: string;
  mail: SesMail & { messageId: string; source: string; headers?: Array<{ name: string; value: string }> };
  receipt: SesReceipt & { recipients: string[]; action: Record<string, unknown> };
}
/** A fresh copy of the fixture notification (tests change theirs). */
const sesNotification = (): SesNotification => JSON.parse(sesNotificationText) as SesNotification;
const SES_ID = sesNotification().mail.messageId;

let s3rver: S3rverHandle;
let dynalite: DynaliteHandle;
let s3: S3Client;
let dynamo: DynamoDBClient;

beforeAll(async () => {
  // `my-S3-bucket` is where the aws-lambda-go S3-action sample says SES wrote its message.
  [s3rver, dynalite] = await Promise.all([
    startS3rver({ buckets: [RAW_BUCKET, 'my-S3-bucket'] }),
    startDynalite(),
  ]);
  s3 = s3ClientFor(s3rver.endpoint);
  dynamo = dynamoClientFor(dynalite.endpoint);
});

afterAll(async () => {
  s3?.destroy();
  dynamo?.destroy();
  await Promise.all([s3rver?.close(), dynalite?.close()]);
});

beforeEach(() => {
  ordersBackend.down = false;
  ordersBackend.refuses = false;
  ordersBackend.calls.length = 0;
});

interface LogEntry {
  level: keyof Logger;
  msg: string;
  data: Record<string, unknown> | undefined;
}

let tables = 0;

/** A handler on a fresh table, with its events and logs collected, and a store to inspect the table. */
async function harness(
  options: { emit?: (events: MailroomEvent[]) => Promise<void>; env?: Record<string, string> } = {},
) {
  const tableName = `mailroom-${++tables}`;
  await createMessageTable(dynamo, tableName);
  const events: MailroomEvent[] = [];
  const logs: LogEntry[] = [];
  const log =
    (level: keyof Logger) =>
    (msg: string, data?: Record<string, unknown>): void => {
      logs.push({ level, msg, data });
    };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const handle: ProcessHandler = createProcessHandler({
    config: testConfig,
    env: { MAILROOM_RAW_BUCKET: RAW_BUCKET, MAILROOM_TABLE: tableName, ...options.env },
    s3,
    dynamo,
    logger,
    emit:
      options.emit ??
      (async (batch) => {
        events.push(...batch);
      }),
  });
  const store = new DynamoMessageStore({ client: dynamo, tableName });
  const sqs = async (event: unknown) => (await handle(event)) as SQSBatchResponse;
  return { handle, sqs, store, events, logs, tableName };
}

async function putObject(bucket: string, key: string, body: Buffer | string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function getObject(bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** The fixture message stored by the SES S3 action, and its notification in an SNS envelope. */
async function sesS3ActionBody(): Promise<string> {
  await putObject(RAW_BUCKET, `ses/${SES_ID}`, sesMessage);
  return snsEnvelope(sesNotification());
}

/** Verdicts as the SMTP ingress computes them at the end of DATA. */
const smtpVerdicts: AuthVerdicts = {
  source: 'mailauth',
  spf: {
    result: 'pass',
    scope: 'mailfrom',
    domain: 'partner.test',
    mailFrom: 'bob@partner.test',
    helo: 'mx.partner.test',
    clientIp: '198.51.100.7',
    comment: 'mx.example.com: domain of bob@partner.test designates 198.51.100.7 as permitted sender',
  },
  dkim: [{ result: 'pass', domain: 'partner.test', selector: 's1', aligned: true, algorithm: 'rsa-sha256' }],
  dmarc: { result: 'pass', domain: 'partner.test', policy: 'reject', alignment: { spf: true, dkim: true } },
  arc: { result: 'none', instance: 0 },
  spam: null,
  virus: null,
};

const smtpMessage = (subject: string) =>
  Buffer.from(
    'Received: from mx.partner.test (mx.partner.test [198.51.100.7]) by mx.example.com; Tue, 14 May 2024 10:00:00 +0000\r\n' +
      'From: Bob <bob@partner.test>\r\nTo: support@example.com\r\n' +
      `Subject: ${subject}\r\nMessage-ID: <${subject.replace(/\W+/g, '-')}@partner.test>\r\n` +
      'Date: Tue, 14 May 2024 10:00:00 +0000\r\n\r\nOrder 77, please.\r\n',
  );

/** Stores a message as `mailroom smtp` does (S3RawStore, envelope and verdicts as metadata). */
async function storeSmtpMessage(
  subject: string,
  options: { prefix?: string; auth?: AuthVerdicts | null } = {},
): Promise<{ id: string; key: string; size: number }> {
  const store = new S3RawStore({ client: s3, bucket: RAW_BUCKET, prefix: options.prefix ?? 'smtp/' });
  const id = newMessageId();
  const envelope = {
    mailFrom: 'bob@partner.test',
    rcptTo: ['support@example.com', 'orders@example.com'],
    remoteAddress: '198.51.100.7',
    helo: 'mx.partner.test',
  };
  const auth = options.auth === undefined ? smtpVerdicts : options.auth;
  const { size } = await store.put(id, smtpMessage(subject), auth ? { envelope, auth } : { envelope });
  return { id, key: store.keyFor(id), size };
}

const steps = (trace: Array<{ step: string }>, step: string) => trace.filter((t) => t.step === step).length;

describe('SES: S3 action notification through SNS and SQS', () => {
  it('records the message, routes it by receipt.recipients (Bcc too) and takes verdicts from the receipt only', async () => {
    const h = await harness();
    const record = sqsRecord(await sesS3ActionBody());
    expect(await h.sqs(sqsEvent(record))).toEqual({ batchItemFailures: [] });

    const m = await h.store.getMessage(SES_ID);
    expect(m).not.toBeNull();
    expect(m!.status).toBe('processed');
    // The receipt's recipients, not mail.destination (which names another domain's recipient too).
    expect(m!.envelope).toEqual({
      mailFrom: 'alice@sender.test',
      rcptTo: ['support@example.com', 'orders@example.com'],
    });
    expect(m!.receivedAt).toBe('2024-05-14T09:30:12.512Z');
    expect(m!.size).toBe(sesMessage.length);
    expect(m!.subject).toBe('Printer on fire');

    // The receipt says spam FAIL, SPF FAIL, DMARC FAIL; the sender's own X-SES-Spam-Verdict: PASS and
    // Authentication-Results claiming passes change nothing.
    const { receipt, mail } = sesNotification();
    expect(m!.auth).toEqual(mapSesVerdicts(receipt, mail));
    expect(m!.auth).toMatchObject({
      source: 'ses',
      spf: { result: 'fail', mailFrom: 'alice@sender.test' },
      dkim: [],
      dmarc: { result: 'fail', domain: 'sender.test', policy: 'none' },
      spam: { verdict: 'fail' },
      virus: { verdict: 'pass' },
    });

    // support@ (To:) → mailbox; orders@ (Bcc: only in the envelope) → the handler, which saw the receipt's verdicts.
    expect(m!.deliveries.map((d) => [d.recipient, d.route, d.status]).sort()).toEqual([
      ['orders@example.com', 'orders', 'delivered'],
      ['support@example.com', 'support', 'delivered'],
    ]);
    expect(ordersBackend.calls).toEqual([
      expect.objectContaining({ id: SES_ID, recipients: ['orders@example.com'], spf: 'fail' }),
    ]);
    expect((await h.store.listMailboxEntries('support')).map((e) => e.messageId)).toEqual([SES_ID]);
    expect(m!.trace.map((t) => t.step)).toEqual(expect.arrayContaining(['received', 'parsed', 'processed']));
    expect(m!.trace.find((t) => t.step === 'received')!.detail).toContain(`s3://${RAW_BUCKET}/ses/${SES_ID}`);

    expect(h.events.map((e) => e.detailType)).toEqual(['mailroom.received', 'mailroom.routed']);
    expect(h.events[0]!.detail).toMatchObject({ id: SES_ID, origin: 'ses', size: sesMessage.length });
    expect(h.events[1]!.detail).toMatchObject({
      id: SES_ID,
      status: 'processed',
      subject: 'Printer on fire',
      from: { address: 'alice@sender.test' },
    });
  });

  it('keeps the content of an SNS action in the raw bucket before processing it (BASE64)', async () => {
    const h = await harness();
    const n = sesNotification();
    const id = `${SES_ID}sns`;
    n.mail.messageId = id;
    n.receipt.action = {
      type: 'SNS',
      topicArn: 'arn:aws:sns:us-east-1:123456789012:mailroom-received',
      encoding: 'BASE64',
    };
    n.content = sesMessage.toString('base64');
    expect(await h.sqs(sqsEvent(sqsRecord(snsEnvelope(n))))).toEqual({ batchItemFailures: [] });

    expect((await getObject(RAW_BUCKET, `ses/${id}`)).equals(sesMessage)).toBe(true);
    const m = await h.store.getMessage(id);
    expect(m).toMatchObject({ status: 'processed', subject: 'Printer on fire', size: sesMessage.length });
    expect(m!.deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered']);

    // An object already at the key (an earlier delivery of the notification wrote it) is not replaced.
    const again = await harness();
    const id2 = `${SES_ID}sn2`;
    n.mail.messageId = id2;
    await putObject(RAW_BUCKET, `ses/${id2}`, 'written by an earlier run');
    expect(await again.sqs(sqsEvent(sqsRecord(snsEnvelope(n))))).toEqual({ batchItemFailures: [] });
    expect((await getObject(RAW_BUCKET, `ses/${id2}`)).toString()).toBe('written by an earlier run');
    expect(await again.store.getMessage(id2)).toMatchObject({ status: 'processed', size: sesMessage.length });
  });

  it('answers a receipt rule invoking it directly with CONTINUE, reading ses/<messageId>', async () => {
    const h = await harness();
    await putObject(RAW_BUCKET, `ses/${SES_ID}`, sesMessage);
    const { mail, receipt } = sesNotification();
    receipt.action = {
      type: 'Lambda',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:mailroom-process',
      invocationType: 'Event',
    };
    const event = { Records: [{ eventSource: 'aws:ses', eventVersion: '1.0', ses: { mail, receipt } }] };
    expect(await h.handle(event)).toEqual({ disposition: 'CONTINUE' });
    expect(await h.store.getMessage(SES_ID)).toMatchObject({ status: 'processed' });

    // A receipt event whose message SES did not store (no S3 action before the Lambda action) fails.
    mail.messageId = 'nosuchmessagestoredbyses0000000000000001';
    await expect(h.handle(event)).rejects.toThrow(
      /ses\/nosuchmessagestoredbyses0000000000000001 does not exist/,
    );
  });
});

describe('mailroom smtp: S3 event notification', () => {
  it('takes envelope and end-of-DATA verdicts from the object metadata (URL-encoded key, custom prefix)', async () => {
    const h = await harness({ env: { MAILROOM_SMTP_PREFIX: 'inbound mail/' } });
    const stored = await storeSmtpMessage('Order request', { prefix: 'inbound mail/' });
    const body = s3ObjectCreated(RAW_BUCKET, stored.key, stored.size);
    expect(body).toContain('"key":"inbound+mail/');
    expect(await h.sqs(sqsEvent(sqsRecord(body)))).toEqual({ batchItemFailures: [] });

    const m = await h.store.getMessage(stored.id);
    expect(m).toMatchObject({
      status: 'processed',
      subject: 'Order request',
      envelope: {
        mailFrom: 'bob@partner.test',
        rcptTo: ['support@example.com', 'orders@example.com'],
        remoteAddress: '198.51.100.7',
        helo: 'mx.partner.test',
      },
    });
    expect(m!.auth).toEqual(smtpVerdicts);
    expect(m!.trace.find((t) => t.step === 'authenticated')?.detail).toMatch(
      /^spf=pass dkim=pass dmarc=pass/,
    );
    expect(ordersBackend.calls).toEqual([
      expect.objectContaining({ id: stored.id, recipients: ['orders@example.com'], spf: 'pass' }),
    ]);
    expect((await h.store.listMailboxEntries('support')).map((e) => e.messageId)).toEqual([stored.id]);
    expect(h.events[0]).toMatchObject({ detailType: 'mailroom.received', detail: { origin: 'smtp' } });
  });

  it('authenticates a message stored without verdicts while processing it', async () => {
    const h = await harness();
    const stored = await storeSmtpMessage('No verdicts', { auth: null });
    const out = await h.sqs(sqsEvent(sqsRecord(s3ObjectCreated(RAW_BUCKET, stored.key, stored.size))));
    expect(out).toEqual({ batchItemFailures: [] });
    const m = await h.store.getMessage(stored.id);
    expect(m!.status).toBe('processed');
    // Checked against the test config's empty DNS zone: nothing published, so nothing passes.
    expect(m!.auth).toMatchObject({ source: 'mailauth', spf: { result: 'none', clientIp: '198.51.100.7' } });
    expect(m!.auth!.dmarc.result).not.toBe('pass');
  });

  it('acknowledges what carries no new mail without recording anything', async () => {
    const h = await harness();
    const stored = await storeSmtpMessage('Removed');
    const bodies = [
      s3TestEvent(RAW_BUCKET),
      s3ObjectCreated(RAW_BUCKET, stored.key, stored.size, 'ObjectRemoved:Delete'),
      s3ObjectCreated(RAW_BUCKET, `smtp/${stored.id}.meta.json`, 200),
      snsEnvelope(s3TestEvent(RAW_BUCKET), 'Amazon S3 Notification'),
      JSON.stringify({
        Type: 'SubscriptionConfirmation',
        MessageId: 'x',
        Message: 'You have chosen to subscribe',
      }),
      snsEnvelope({
        notificationType: 'AmazonSnsSubscriptionSucceeded',
        message: 'You have successfully subscribed your Amazon SNS topic to receive Received notifications.',
      }),
    ];
    const out = await h.sqs(sqsEvent(...bodies.map((b) => sqsRecord(b))));
    expect(out).toEqual({ batchItemFailures: [] });
    expect(await h.store.listMessages()).toEqual([]);
    expect(h.logs.filter((l) => l.msg === 'acknowledged without processing')).toHaveLength(bodies.length);
  });
});

describe('at-least-once delivery', () => {
  it('processes the same SQS record delivered twice once: one record, one delivery per route, one mailbox entry', async () => {
    const h = await harness();
    const record = sqsRecord(await sesS3ActionBody());
    expect(await h.sqs(sqsEvent(record))).toEqual({ batchItemFailures: [] });
    const first = await h.store.getMessage(SES_ID);
    expect(await h.sqs(sqsEvent(record))).toEqual({ batchItemFailures: [] });
    // And two copies in one batch (SQS may deliver a message twice, under different receipts).
    const copy = { ...record, messageId: `${record.messageId}-copy` };
    expect(await h.sqs(sqsEvent(record, copy))).toEqual({ batchItemFailures: [] });

    expect((await h.store.listMessages()).map((m) => m.id)).toEqual([SES_ID]);
    const m = await h.store.getMessage(SES_ID);
    expect(m!.deliveries).toHaveLength(2);
    expect(m!.deliveries.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
    expect(await h.store.listMailboxEntries('support')).toHaveLength(1);
    expect(ordersBackend.calls).toHaveLength(1);
    expect(m!.trace).toEqual(first!.trace); // nothing traced again
    expect(steps(m!.trace, 'received')).toBe(1);
    expect(steps(m!.trace, 'processed')).toBe(1);
    expect(h.events.map((e) => e.detailType)).toEqual(['mailroom.received', 'mailroom.routed']);
    expect(h.logs.filter((l) => l.msg === 'message already processed; acknowledged')).toHaveLength(3);
  });
});

describe('partial batch failures', () => {
  it.each([
    ['its object is missing', () => s3ObjectCreated(RAW_BUCKET, `smtp/${newMessageId()}.eml`, 512)],
    ['its body is garbage', () => 'this is not an event {'],
    ['its JSON is no event we know', () => JSON.stringify({ hello: 'world' })],
    ['its S3 key is not a Mailroom message', () => s3ObjectCreated(RAW_BUCKET, 'uploads/cat.jpg', 9)],
  ])('reports only the middle record when %s', async (_why, poison) => {
    const h = await harness();
    const before = await storeSmtpMessage('Before the poison');
    const after = await storeSmtpMessage('After the poison');
    const records = [
      sqsRecord(s3ObjectCreated(RAW_BUCKET, before.key, before.size)),
      sqsRecord(poison()),
      sqsRecord(s3ObjectCreated(RAW_BUCKET, after.key, after.size)),
    ];
    expect(await h.sqs(sqsEvent(...records))).toEqual({
      batchItemFailures: [{ itemIdentifier: records[1]!.messageId }],
    });
    expect((await h.store.getMessage(before.id))?.status).toBe('processed');
    expect((await h.store.getMessage(after.id))?.status).toBe('processed');
    expect((await h.store.listMessages()).map((m) => m.id).sort()).toEqual([before.id, after.id].sort());
    const failure = h.logs.find((l) => l.level === 'error');
    expect(failure?.data).toMatchObject({ record: records[1]!.messageId });
  });

  it('reports every record when DynamoDB cannot be used', async () => {
    const h = await harness({ env: { MAILROOM_TABLE: 'no-such-table' } });
    const stored = await storeSmtpMessage('Nowhere to record');
    const records = [
      sqsRecord(s3ObjectCreated(RAW_BUCKET, stored.key, stored.size)),
      sqsRecord(await sesS3ActionBody()),
    ];
    const out = await h.sqs(sqsEvent(...records));
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
  });
});

describe('failed deliveries', () => {
  it('fails the message and its record on a throwing handler (one try), then delivers once after the fix', async () => {
    const h = await harness();
    const record = sqsRecord(await sesS3ActionBody());
    ordersBackend.down = true;
    const started = Date.now();
    expect(await h.sqs(sqsEvent(record))).toEqual({
      batchItemFailures: [{ itemIdentifier: record.messageId }],
    });
    // The config asks for 4 tries with 5 s backoff; inside Lambda each delivery is tried once per run.
    expect(Date.now() - started).toBeLessThan(4_000);
    const failed = await h.store.getMessage(SES_ID);
    expect(failed!.status).toBe('failed');
    const byRoute = Object.fromEntries(failed!.deliveries.map((d) => [d.route, d]));
    expect(byRoute.orders).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: expect.stringContaining('orders backend is down'),
    });
    expect(byRoute.support).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(h.events.at(-1)).toMatchObject({ detailType: 'mailroom.routed', detail: { status: 'failed' } });

    ordersBackend.down = false;
    expect(await h.sqs(sqsEvent(record))).toEqual({ batchItemFailures: [] });
    const fixed = await h.store.getMessage(SES_ID);
    expect(fixed!.status).toBe('processed');
    expect(fixed!.deliveries.find((d) => d.route === 'orders')).toMatchObject({
      status: 'delivered',
      attempts: 2,
    });
    expect(fixed!.deliveries.find((d) => d.route === 'support')).toMatchObject({ attempts: 1 });
    expect(ordersBackend.calls).toHaveLength(1);
    expect(await h.store.listMailboxEntries('support')).toHaveLength(1);
    expect(steps(fixed!.trace, 'received')).toBe(1);
    expect(steps(fixed!.trace, 'skipped')).toBe(1); // the mailbox delivery, already delivered
    expect(h.events.map((e) => e.detailType)).toEqual([
      'mailroom.received',
      'mailroom.routed',
      'mailroom.routed',
    ]);
  });
});

describe('failed for good', () => {
  it('acknowledges a message whose delivery failed with a permanent error, kept as failed for replay', async () => {
    const h = await harness();
    const record = sqsRecord(await sesS3ActionBody());
    ordersBackend.refuses = true;
    expect(await h.sqs(sqsEvent(record))).toEqual({ batchItemFailures: [] });
    const m = await h.store.getMessage(SES_ID);
    expect(m!.status).toBe('failed');
    expect(m!.deliveries.find((d) => d.route === 'orders')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: expect.stringContaining('orders backend refuses the order'),
    });
    expect(await h.store.listFailed()).toEqual([SES_ID]);
    expect(h.logs.filter((l) => l.msg.startsWith('message failed for good'))).toHaveLength(1);
    expect(h.events.map((e) => e.detailType)).toEqual([
      'mailroom.received',
      'mailroom.routed',
      'mailroom.delivery.failed',
    ]);
    expect(h.events[1]).toMatchObject({ detailType: 'mailroom.routed', detail: { status: 'failed' } });
    expect(h.events[2]).toMatchObject({ detail: { id: SES_ID, route: 'orders', permanent: true } });
  });
});

describe('events', () => {
  it('logs a warning when events cannot be emitted, and still processes the message', async () => {
    const h = await harness({
      emit: async () => {
        throw new Error('EventBridge is unavailable');
      },
    });
    expect(await h.sqs(sqsEvent(sqsRecord(await sesS3ActionBody())))).toEqual({ batchItemFailures: [] });
    expect((await h.store.getMessage(SES_ID))?.status).toBe('processed');
    const warnings = h.logs.filter((l) => l.level === 'warn' && l.msg === 'could not emit events');
    expect(warnings.map((w) => w.data?.types)).toEqual([['mailroom.received'], ['mailroom.routed']]);
    expect(warnings[0]!.data?.error).toBe('EventBridge is unavailable');
  });
});

describe('environment and event validation', () => {
  it('names the missing variable', async () => {
    const handle = createProcessHandler({ config: testConfig, env: { MAILROOM_TABLE: 't' }, s3, dynamo });
    const event = sqsEvent(sqsRecord(s3TestEvent(RAW_BUCKET)));
    await expect(handle(event)).rejects.toThrow(ProcessEnvError);
    await expect(handle(event)).rejects.toThrow(/MAILROOM_RAW_BUCKET: required/);
    const bad = createProcessHandler({
      config: testConfig,
      env: { MAILROOM_RAW_BUCKET: 'b', MAILROOM_TABLE: 't', MAILROOM_RETENTION_DAYS: 'soon' },
      s3,
      dynamo,
    });
    await expect(bad(event)).rejects.toThrow(/MAILROOM_RETENTION_DAYS: must be a whole number/);
  });

  it('refuses an event that is neither an SQS batch nor an SES receipt event', async () => {
    const h = await harness();
    await expect(h.handle({ hello: 'world' })).rejects.toThrow(/not an SQS event/);
    await expect(h.handle({ Records: [{ eventSource: 'aws:ses', ses: {} }] })).rejects.toThrow(
      /not a valid SES receipt event/,
    );
  });

  it('runs as `handler` from the environment alone (SDK endpoint variables, examples config)', async () => {
    const tableName = `mailroom-${++tables}`;
    await createMessageTable(dynamo, tableName);
    const saved = { ...process.env };
    Object.assign(process.env, {
      MAILROOM_RAW_BUCKET: RAW_BUCKET,
      MAILROOM_TABLE: tableName,
      MAILROOM_LOG_LEVEL: 'silent',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_S3: s3rver.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    });
    try {
      const { handler } = await import('../../../functions/process.ts');
      const stored = await storeSmtpMessage('Via the environment');
      const out = await handler(sqsEvent(sqsRecord(s3ObjectCreated(RAW_BUCKET, stored.key, stored.size))));
      expect(out).toEqual({ batchItemFailures: [] });
      const store = new DynamoMessageStore({ client: dynamo, tableName });
      const m = await store.getMessage(stored.id);
      // examples/mailroom.config.ts: support@ → mailbox support; orders@ has no route there.
      expect(m?.status).toBe('processed');
      expect(m!.deliveries.map((d) => [d.recipient, d.status]).sort()).toEqual([
        ['orders@example.com', 'unrouted'],
        ['support@example.com', 'delivered'],
      ]);
    } finally {
      process.env = saved;
    }
  });
});

/** Every file under `dir` (recursively) whose name ends `.json`. */
function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

/** A raw message made of the sample's headers, as the SES S3 action would have stored it. */
function rawFromHeaders(mail: { headers?: Array<{ name: string; value: string }> }): Buffer {
  const lines = (mail.headers ?? []).map((h) => `${h.name}: ${h.value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\nSample body.\r\n`);
}

describe('third-party SES samples (shared corpora)', () => {
  const root = corporaDir();
  const dir = root ? join(root, 'aws-ses-events') : null;
  const files = dir ? jsonFiles(dir).sort() : [];

  it('finds the samples, or says why not', () => {
    if (!dir) {
      console.warn('[process-function] corpora folder absent: SES sample tests skipped');
      return;
    }
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  for (const file of files) {
    const name = relative(dir!, file);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      notificationType?: string;
      Records?: Array<{ eventSource?: string; EventSource?: string; ses?: unknown; Sns?: unknown }>;
    };

    if (doc.Records?.[0]?.eventSource === 'aws:ses') {
      it(`processes ${name} (receipt rule Lambda event, and as an SNS notification on the queue)`, async () => {
        const h = await harness();
        const { mail, receipt } = doc.Records![0]!.ses as SesNotification;
        const raw = rawFromHeaders(mail);
        const action = receipt.action as { type: string; bucketName?: string; objectKey?: string };
        const stored =
          action.type === 'S3' && action.bucketName && action.objectKey
            ? { bucket: action.bucketName, key: action.objectKey }
            : { bucket: RAW_BUCKET, key: `ses/${mail.messageId}` };
        await putObject(stored.bucket, stored.key, raw);

        expect(await h.handle(doc)).toEqual({ disposition: 'CONTINUE' });
        const m = await h.store.getMessage(mail.messageId);
        expect(m).toMatchObject({
          status: 'processed',
          envelope: { mailFrom: mail.source, rcptTo: receipt.recipients },
          size: raw.length,
        });
        expect(m!.auth).toEqual(mapSesVerdicts(receipt, mail));
        expect(m!.deliveries.map((d) => [d.recipient, d.route, d.status])).toEqual(
          receipt.recipients.map((r) => [r, 'samples', 'delivered']),
        );
        expect(m!.trace.find((t) => t.step === 'received')!.detail).toContain(
          `s3://${stored.bucket}/${stored.key}`,
        );

        // The same receipt as SES publishes it to SNS, on a fresh table.
        const q = await harness();
        const notification = { notificationType: 'Received', mail, receipt };
        const out = await q.sqs(sqsEvent(sqsRecord(snsEnvelope(notification))));
        expect(out).toEqual({ batchItemFailures: [] });
        expect((await q.store.getMessage(mail.messageId))?.auth).toEqual(m!.auth);
      });
    } else if (doc.notificationType === 'Received') {
      it(`processes ${name} (SNS action notification with the message as content)`, async () => {
        const h = await harness();
        const n = doc as unknown as SesNotification;
        // Other samples share this SES message id: start without their object, as SES would.
        await s3.send(new DeleteObjectCommand({ Bucket: RAW_BUCKET, Key: `ses/${n.mail.messageId}` }));
        const out = await h.sqs(sqsEvent(sqsRecord(snsEnvelope(n))));
        expect(out).toEqual({ batchItemFailures: [] });
        expect((await getObject(RAW_BUCKET, `ses/${n.mail.messageId}`)).toString('utf8')).toBe(n.content);
        const m = await h.store.getMessage(n.mail.messageId);
        expect(m).toMatchObject({
          status: 'processed',
          envelope: { mailFrom: n.mail.source, rcptTo: n.receipt.recipients },
          subject: 'Example subject',
        });
        expect(m!.auth).toEqual(mapSesVerdicts(n.receipt, n.mail));
        expect(m!.deliveries.map((d) => d.status)).toEqual(['delivered']);
      });
    } else if (doc.Records?.[0]?.EventSource === 'aws:sns') {
      it(`reports ${name} (an SNS message that is not mail) as a failed record, recording nothing`, async () => {
        const h = await harness();
        const record = sqsRecord(JSON.stringify(doc.Records![0]!.Sns));
        expect(await h.sqs(sqsEvent(record))).toEqual({
          batchItemFailures: [{ itemIdentifier: record.messageId }],
        });
        expect(await h.store.listMessages()).toEqual([]);
      });
    } else {
      it(`knows the shape of ${name}`, () => {
        expect.fail(`a sample of a shape this test does not know: ${name}`);
      });
    }
  }
});
