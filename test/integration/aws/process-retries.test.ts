/**
 * The processor's retries across invocations, end to end and in-process: the real handler against s3rver,
 * dynalite and sqslite (behind its JSON-protocol bridge), a webhook on a local HTTP server, and an injected
 * clock. Nothing waits on the wall clock: "6 hours later" is a clock value, and SQS's delays are read from
 * the rescheduled messages (sqslite hands delayed messages over at once; each run is given the message as
 * SQS would after its `DelaySeconds`, with the clock moved on by that much).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProcessHandler } from '../../../functions/process.ts';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { DynamoMessageStore } from '../../../lib/aws/dynamo-message-store.ts';
import type { MailroomEvent } from '../../../lib/aws/mailroom-events.ts';
import type { RetryMessage } from '../../../lib/aws/retry-queue.ts';
import { S3RawStore } from '../../../lib/aws/s3-raw-store.ts';
import type { RetryOptions } from '../../../lib/config/index.ts';
import { defineMailroom, handler, mailbox, webhook } from '../../../lib/index.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
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
import { type SqsEmulatorHandle, sqsClientFor, startSqsEmulator } from '../../support/sqs-emulator.ts';

const RAW_BUCKET = 'mailroom-raw';
const HOUR = 3_600_000;

let s3rver: S3rverHandle;
let dynalite: DynaliteHandle;
let sqsEmulator: SqsEmulatorHandle;
let s3: S3Client;
let dynamo: DynamoDBClient;
let sqs: SQSClient;
let hookServer: Server;
let hookUrl: string;

/** The webhook: answers `status`; every request is counted with the status it got. */
const hook = { status: 503, calls: [] as Array<{ status: number; key: string | undefined }> };
/** The other actions' own counts. */
const orders = { calls: 0 };

beforeAll(async () => {
  [s3rver, dynalite, sqsEmulator] = await Promise.all([
    startS3rver({ buckets: [RAW_BUCKET] }),
    startDynalite(),
    startSqsEmulator(),
  ]);
  s3 = s3ClientFor(s3rver.endpoint);
  dynamo = dynamoClientFor(dynalite.endpoint);
  sqs = sqsClientFor(sqsEmulator.endpoint);
  hookServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hook.calls.push({ status: hook.status, key: req.headers['idempotency-key'] as string | undefined });
      res.writeHead(hook.status).end();
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/mail`;
});

afterAll(async () => {
  s3?.destroy();
  dynamo?.destroy();
  sqs?.destroy();
  hookServer?.closeAllConnections();
  await new Promise<void>((resolve) => (hookServer ? hookServer.close(() => resolve()) : resolve()));
  await Promise.all([s3rver?.close(), dynalite?.close(), sqsEmulator?.close()]);
});

beforeEach(() => {
  hook.status = 503;
  hook.calls.length = 0;
  orders.calls = 0;
});

function config(retry?: RetryOptions) {
  return defineMailroom({
    domains: ['example.com'],
    auth: { dns: {} },
    ...(retry ? { retry } : {}),
    routes: [
      { name: 'support', match: 'support@example.com', action: mailbox('support') },
      {
        name: 'orders',
        match: 'orders@example.com',
        action: handler(async function countOrder() {
          orders.calls += 1;
        }),
      },
      { name: 'hooks', match: 'hooks@example.com', action: webhook(hookUrl, { timeoutMs: 5_000 }) },
    ],
  });
}

let tables = 0;

/** A handler on a fresh table and queue, with an injected clock starting at `start`. */
async function harness(retry?: RetryOptions) {
  const n = ++tables;
  const tableName = `mailroom-retries-${n}`;
  await createMessageTable(dynamo, tableName);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `mailroom-queue-${n}` }));
  const clock = { now: new Date('2026-03-02T09:00:00.000Z') };
  const events: MailroomEvent[] = [];
  const handle = createProcessHandler({
    config: config(retry),
    env: { MAILROOM_RAW_BUCKET: RAW_BUCKET, MAILROOM_TABLE: tableName, MAILROOM_QUEUE_URL: QueueUrl! },
    s3,
    dynamo,
    sqs,
    logger: silentLogger,
    emit: async (batch) => {
      events.push(...batch);
    },
    processor: { now: () => clock.now, random: () => 0 },
  });
  const store = new DynamoMessageStore({ client: dynamo, tableName });
  const run = async (body: string) => (await handle(sqsEvent(sqsRecord(body)))) as SQSBatchResponse;
  /** The rescheduled messages on the queue (taken off it), as the processor sent them. */
  const takeQueued = async (): Promise<Array<{ body: string; retry: RetryMessage }>> => {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    const messages = out.Messages ?? [];
    for (const m of messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    return messages.map((m) => ({
      body: m.Body!,
      retry: (JSON.parse(m.Body!) as { mailroomRetry: RetryMessage }).mailroomRetry,
    }));
  };
  return { run, store, events, clock, takeQueued };
}

/** Stores a message as `mailroom smtp` does, for the three routes; returns its S3 event body. */
async function storeMessage(): Promise<{ id: string; body: string }> {
  const raw = new S3RawStore({ client: s3, bucket: RAW_BUCKET, prefix: 'smtp/' });
  const id = newMessageId();
  const envelope = {
    mailFrom: 'bob@partner.test',
    rcptTo: ['support@example.com', 'orders@example.com', 'hooks@example.com'],
  };
  const message = Buffer.from(
    'From: Bob <bob@partner.test>\r\nTo: support@example.com\r\nSubject: Order 77\r\n' +
      `Message-ID: <${id}@partner.test>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n\r\nOrder 77, please.\r\n`,
  );
  const { size } = await raw.put(id, message, { envelope });
  return { id, body: s3ObjectCreated(RAW_BUCKET, raw.keyFor(id), size) };
}

type Harness = Awaited<ReturnType<typeof harness>>;

/**
 * Plays SQS: takes the one rescheduled message, moves the clock on by its `DelaySeconds` and runs it,
 * until `until` returns true or the queue is empty. Returns the delays seen.
 */
async function playQueue(h: Harness, until: () => boolean): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < 500 && !until(); i++) {
    const queued = await h.takeQueued();
    if (queued.length === 0) break;
    expect(queued).toHaveLength(1); // one chain per message, never a fan-out
    const { body, retry } = queued[0]!;
    delays.push(retry.delaySeconds);
    h.clock.now = new Date(h.clock.now.getTime() + retry.delaySeconds * 1000);
    expect(await h.run(body)).toEqual({ batchItemFailures: [] });
  }
  return delays;
}

const byRoute = async (h: Harness, id: string) =>
  Object.fromEntries((await h.store.getMessage(id))!.deliveries.map((d) => [d.route, d]));

describe('a webhook down longer than SQS would retry', () => {
  it('is rescheduled with backoff for hours, then delivered once; the other actions run once', async () => {
    const h = await harness();
    const { id, body } = await storeMessage();
    const start = h.clock.now.getTime();

    // First run: the mailbox and the handler deliver, the webhook (503) is rescheduled, the record acknowledged.
    expect(await h.run(body)).toEqual({ batchItemFailures: [] });
    let deliveries = await byRoute(h, id);
    expect(deliveries.support).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(deliveries.orders).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(deliveries.hooks).toMatchObject({
      status: 'pending',
      attempts: 1,
      error: expect.stringContaining('503'),
    });
    expect((await h.store.getMessage(id))!.status).toBe('processing');

    // Six hours of outage: far past SQS's own window (5 receives × 6 minutes, then the dead-letter queue).
    const delays = await playQueue(h, () => h.clock.now.getTime() - start >= 6 * HOUR);
    expect(delays.slice(0, 6)).toEqual([30, 60, 120, 240, 480, 900]);
    expect(Math.max(...delays)).toBe(900); // SQS's longest delay: longer waits are chained
    const webhookTries = hook.calls.length;
    // 30 s doubling to the 1-hour cap (no jitter here): tries at 0, 30 s, 1.5, 3.5, 7.5, 15.5, 31.5 and
    // 63.5 minutes, then hourly to 6 h 3.5 min; the other runs were links of the chain, trying nothing.
    expect(webhookTries).toBe(13);
    expect(delays.length).toBeGreaterThan(webhookTries);
    deliveries = await byRoute(h, id);
    expect(deliveries.hooks).toMatchObject({ status: 'pending', attempts: 13 });
    expect((await h.store.getMessage(id))!.status).toBe('processing');

    // The webhook comes back: the next due run delivers it, once, and the message is processed.
    hook.status = 200;
    await playQueue(h, () => false);
    expect(hook.calls.filter((c) => c.status === 200)).toHaveLength(1);
    expect(new Set(hook.calls.map((c) => c.key)).size).toBe(1); // one idempotency key throughout
    const done = await h.store.getMessage(id);
    expect(done!.status).toBe('processed');
    deliveries = await byRoute(h, id);
    expect(deliveries.hooks).toMatchObject({ status: 'delivered', attempts: 14 });
    expect(deliveries.support).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(deliveries.orders).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(orders.calls).toBe(1);
    expect(await h.store.listMailboxEntries('support')).toHaveLength(1);
    expect(await h.takeQueued()).toEqual([]);
    expect(h.events.filter((e) => e.detailType === 'mailroom.delivery.failed')).toEqual([]);
  });

  it('does not try a waiting delivery before its time when the original record comes again', async () => {
    const h = await harness();
    const { id, body } = await storeMessage();
    await h.run(body);
    const [first] = await h.takeQueued();
    expect(first!.retry).toMatchObject({ id, delaySeconds: 30, notBefore: '2026-03-02T09:00:30.000Z' });
    // SQS hands the S3 notification over again (at-least-once) ten seconds later: nothing is tried.
    h.clock.now = new Date(h.clock.now.getTime() + 10_000);
    expect(await h.run(body)).toEqual({ batchItemFailures: [] });
    expect(hook.calls).toHaveLength(1);
    expect(orders.calls).toBe(1);
    const [again] = await h.takeQueued();
    expect(again!.retry).toMatchObject({ delaySeconds: 20, notBefore: '2026-03-02T09:00:30.000Z' });
  });
});

describe('failing for good', () => {
  it('fails a webhook answering 410 at once: no reschedule, record acknowledged, event', async () => {
    const h = await harness();
    hook.status = 410;
    const { id, body } = await storeMessage();
    expect(await h.run(body)).toEqual({ batchItemFailures: [] });
    expect(hook.calls).toHaveLength(1);
    const m = await h.store.getMessage(id);
    expect(m!.status).toBe('failed');
    expect((await byRoute(h, id)).hooks).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await h.takeQueued()).toEqual([]);
    expect(await h.store.listFailed()).toEqual([id]);
    expect(h.events.filter((e) => e.detailType === 'mailroom.delivery.failed')).toEqual([
      {
        detailType: 'mailroom.delivery.failed',
        detail: expect.objectContaining({
          id,
          route: 'hooks',
          action: 'webhook',
          attempts: 1,
          permanent: true,
        }),
      },
    ]);
  });

  it('fails the delivery when the retry window is over, with an event, and stops rescheduling', async () => {
    const h = await harness({ windowHours: 2 });
    const { id, body } = await storeMessage();
    const start = h.clock.now.getTime();
    await h.run(body);
    await playQueue(h, () => false); // until nothing is queued any more
    expect(h.clock.now.getTime() - start).toBe(2 * HOUR); // the last try moved up to the window's end
    const m = await h.store.getMessage(id);
    expect(m!.status).toBe('failed');
    const hooks = (await byRoute(h, id)).hooks;
    expect(hooks).toMatchObject({ status: 'failed', error: expect.stringContaining('503') });
    expect(hooks!.attempts).toBe(hook.calls.length);
    expect(orders.calls).toBe(1);
    expect(await h.store.listMailboxEntries('support')).toHaveLength(1);
    expect(await h.store.listFailed()).toEqual([id]);
    expect(h.events.filter((e) => e.detailType === 'mailroom.delivery.failed')).toEqual([
      {
        detailType: 'mailroom.delivery.failed',
        detail: expect.objectContaining({ id, route: 'hooks', permanent: false, attempts: hooks!.attempts }),
      },
    ]);
    expect(m!.trace.some((t) => t.step === 'delivery failed' && t.detail.includes('gave up'))).toBe(true);
  });
});
