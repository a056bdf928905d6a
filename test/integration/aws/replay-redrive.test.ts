/**
 * `mailroom replay --table/--bucket` and `mailroom redrive` end to end, in-process, against s3rver (S3),
 * dynalite (DynamoDB) and sqslite (SQS, behind the JSON bridge of test/support/sqs-emulator.ts). The CLI
 * builds its own SDK clients; they reach the emulators through the SDK's `AWS_ENDPOINT_URL_<SERVICE>`
 * variables. Messages are first run by the real processing Lambda handler, whose webhook target answers
 * 500 until the test "fixes" it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProcessHandler } from '../../../functions/process.ts';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { DynamoMessageStore } from '../../../lib/aws/dynamo-message-store.ts';
import { S3RawStore } from '../../../lib/aws/s3-raw-store.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';
import { s3ObjectCreated, sqsEvent, sqsRecord } from '../../fixtures/aws/aws-events.ts';
import {
  type DynaliteHandle,
  dynamoClientFor,
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  type S3rverHandle,
  s3ClientFor,
  startDynalite,
  startS3rver,
} from '../../support/aws-emulators.ts';
import { mailroom } from '../../support/mailroom-in-process.ts';
import { type SqsEmulatorHandle, sqsClientFor, startSqsEmulator } from '../../support/sqs-emulator.ts';

const RAW_BUCKET = 'mailroom-raw';
const CONFIG = join(import.meta.dirname, '../../fixtures/aws/replay.config.ts');

let s3rver: S3rverHandle;
let dynalite: DynaliteHandle;
let sqslite: SqsEmulatorHandle;
let s3: S3Client;
let dynamo: DynamoDBClient;
let sqs: SQSClient;

/** The webhook targets: calls per path, and whether `/tickets` answers 500. */
const webhooks = { ticketsDown: true, calls: { tickets: 0, archive: 0 } as Record<string, number> };
let webhookServer: Server;

beforeAll(async () => {
  [s3rver, dynalite, sqslite] = await Promise.all([
    startS3rver({ buckets: [RAW_BUCKET] }),
    startDynalite(),
    startSqsEmulator(),
  ]);
  s3 = s3ClientFor(s3rver.endpoint);
  dynamo = dynamoClientFor(dynalite.endpoint);
  sqs = sqsClientFor(sqslite.endpoint);
  webhookServer = createServer((req, res) => {
    const target = (req.url ?? '').slice(1);
    webhooks.calls[target] = (webhooks.calls[target] ?? 0) + 1;
    req.resume();
    res.statusCode = target === 'tickets' && webhooks.ticketsDown ? 500 : 200;
    res.end();
  });
  await new Promise<void>((resolve) => webhookServer.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const client of [s3, dynamo, sqs]) client?.destroy();
  webhookServer?.closeAllConnections();
  await Promise.all([
    s3rver?.close(),
    dynalite?.close(),
    sqslite?.close(),
    new Promise((resolve) => webhookServer?.close(resolve)),
  ]);
});

beforeEach(() => {
  webhooks.ticketsDown = true;
  webhooks.calls = { tickets: 0, archive: 0 };
  // What the CLI's SDK clients read: the emulators' endpoints, region and credentials.
  vi.stubEnv('AWS_ENDPOINT_URL_S3', s3rver.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', sqslite.endpoint);
  vi.stubEnv('AWS_REGION', EMULATOR_REGION);
  vi.stubEnv('AWS_ACCESS_KEY_ID', EMULATOR_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', EMULATOR_CREDENTIALS.secretAccessKey);
  vi.stubEnv('MAILROOM_TEST_WEBHOOKS', `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}`);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

/**
 * A stand-in for CloudFormation's DescribeStacks (no CloudFormation emulator runs here): answers, in the
 * Query protocol's XML, one stack `Mailroom` with the outputs given; any other name is a ValidationError.
 */
async function cloudFormationStub(
  outputs: Record<string, string>,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
    .join('');
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      res.setHeader('content-type', 'text/xml');
      if (form.get('Action') !== 'DescribeStacks' || form.get('StackName') !== 'Mailroom') {
        res.statusCode = 400;
        res.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>' +
            `<Message>Stack with id ${form.get('StackName')} does not exist</Message></Error></ErrorResponse>`,
        );
        return;
      }
      res.end(
        '<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>Mailroom</StackName>' +
          '<CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus>' +
          `<Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let tables = 0;

/** A fresh table, the processing Lambda's handler on it, and a store to inspect it. */
async function harness() {
  const tableName = `mailroom-ops-${++tables}`;
  await createMessageTable(dynamo, tableName);
  const config = (await import('../../fixtures/aws/replay.config.ts')).default;
  const handle = createProcessHandler({
    config,
    env: { MAILROOM_RAW_BUCKET: RAW_BUCKET, MAILROOM_TABLE: tableName },
    s3,
    dynamo,
    logger: silentLogger,
  });
  const sqsHandler = async (event: unknown) => (await handle(event)) as SQSBatchResponse;
  const store = new DynamoMessageStore({ client: dynamo, tableName });
  return { tableName, sqs: sqsHandler, store };
}

/** Stores a message for tickets@ and archive@ as `mailroom smtp` does; returns the queue body announcing it. */
async function storeMessage(subject: string): Promise<{ id: string; body: string }> {
  const raw = new S3RawStore({ client: s3, bucket: RAW_BUCKET, prefix: 'smtp/' });
  const id = newMessageId();
  const envelope = { mailFrom: 'bob@partner.test', rcptTo: ['tickets@example.com', 'archive@example.com'] };
  const message = Buffer.from(
    `From: bob@partner.test\r\nTo: tickets@example.com, archive@example.com\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${id}@partner.test>\r\n\r\nHello\r\n`,
  );
  const { size } = await raw.put(id, message, { envelope });
  return { id, body: s3ObjectCreated(RAW_BUCKET, raw.keyFor(id), size) };
}

const deliveryStatuses = async (store: DynamoMessageStore, id: string) =>
  Object.fromEntries((await store.getMessage(id))!.deliveries.map((d) => [d.route, d.status]));

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('mailroom replay --table --bucket', () => {
  it('replays a failed delivery once the target is fixed, without repeating the delivered one; again is a no-op', async () => {
    const h = await harness();
    const stored = await storeMessage('Printer on fire');
    const first = await h.sqs(sqsEvent(sqsRecord(stored.body)));
    expect(first.batchItemFailures).toHaveLength(1); // SQS would deliver it again, then dead-letter it
    expect(await deliveryStatuses(h.store, stored.id)).toEqual({ tickets: 'failed', archive: 'delivered' });
    expect(webhooks.calls).toEqual({ tickets: 1, archive: 1 });

    webhooks.ticketsDown = false;
    const args = ['replay', '--table', h.tableName, '--bucket', RAW_BUCKET, '--config', CONFIG];
    const replayed = await mailroom([...args, stored.id]);
    expect(replayed).toMatchObject({ code: 0, stderr: '' });
    expect(lines(replayed.stdout)).toEqual([{ id: stored.id, status: 'processed' }]);
    expect(await deliveryStatuses(h.store, stored.id)).toEqual({
      tickets: 'delivered',
      archive: 'delivered',
    });
    expect(webhooks.calls).toEqual({ tickets: 2, archive: 1 });
    const trace = (await h.store.getMessage(stored.id))!.trace.map((t) => t.step);
    expect(trace).toContain('replay');

    const again = await mailroom([...args, stored.id]);
    expect(again.code).toBe(0);
    expect(lines(again.stdout)).toEqual([{ id: stored.id, status: 'processed', alreadyProcessed: true }]);
    expect(webhooks.calls).toEqual({ tickets: 2, archive: 1 });
  });

  it('--failed replays every failed message (exit 1 while the target is still down), --since bounds it', async () => {
    const h = await harness();
    const a = await storeMessage('First');
    const b = await storeMessage('Second');
    await h.sqs(sqsEvent(sqsRecord(a.body), sqsRecord(b.body)));
    expect(await h.store.listFailed()).toEqual(expect.arrayContaining([a.id, b.id]));
    const args = ['replay', '--table', h.tableName, '--bucket', RAW_BUCKET, '--config', CONFIG, '--failed'];

    const stillDown = await mailroom(args);
    expect(stillDown.code).toBe(1);
    expect(lines(stillDown.stdout)).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.stringContaining('tickets/webhook') }),
      expect.objectContaining({ status: 'failed' }),
    ]);

    webhooks.ticketsDown = false;
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(lines((await mailroom([...args, '--since', future])).stdout)).toEqual([]);
    const fixed = await mailroom([...args, '--since', '24h']);
    expect(fixed.code).toBe(0);
    expect(lines(fixed.stdout).map((l) => [l.id, l.status])).toEqual(
      expect.arrayContaining([
        [a.id, 'processed'],
        [b.id, 'processed'],
      ]),
    );
    expect(await h.store.listFailed()).toEqual([]);
    // Each archive delivery ran once (first run); tickets: first run, the failed replay, the fixed one.
    expect(webhooks.calls).toEqual({ tickets: 6, archive: 2 });
  });

  it('--stack finds the table and the bucket in the stack outputs (CloudFormation stubbed)', async () => {
    const h = await harness();
    const stored = await storeMessage('Via the stack');
    await h.sqs(sqsEvent(sqsRecord(stored.body)));
    webhooks.ticketsDown = false;
    const cf = await cloudFormationStub({
      Table: h.tableName,
      RawBucket: RAW_BUCKET,
      MxHost: 'mx.example.com',
    });
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDFORMATION', cf.endpoint);
    try {
      const r = await mailroom(['replay', '--stack', 'Mailroom', '--config', CONFIG, '--failed']);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(lines(r.stdout)).toEqual([{ id: stored.id, status: 'processed' }]);
      const missing = await mailroom(['replay', '--stack', 'Other', '--config', CONFIG, '--failed']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(
        'mailroom replay: cannot read stack Other: Stack with id Other does not exist\n',
      );
      const older = await mailroom(['redrive', '--stack', 'Mailroom']);
      expect(older.stderr).toBe(
        'mailroom redrive: stack Mailroom has no output DeadLetterQueue, Queue (deployed with an older Mailroom? deploy again)\n',
      );
    } finally {
      await cf.close();
    }
  });

  it('names a message the table does not hold', async () => {
    const h = await harness();
    const r = await mailroom([
      'replay',
      '--table',
      h.tableName,
      '--bucket',
      RAW_BUCKET,
      '--config',
      CONFIG,
      'nope',
    ]);
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `mailroom replay: no message nope in table ${h.tableName}\n`,
    });
  });
});

let queues = 0;

async function createQueues() {
  const n = ++queues;
  const url = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  return { queueUrl: await url(`mailroom-processing-${n}`), dlqUrl: await url(`mailroom-dlq-${n}`) };
}

/** An SQS message as Lambda's event source mapping hands it over. */
function lambdaRecord(m: Message) {
  return { ...sqsRecord(m.Body!, m.MessageId!), receiptHandle: m.ReceiptHandle! };
}

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
  return out.Messages ?? [];
}

const waiting = async (queueUrl: string) =>
  Number(
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      )
    ).Attributes?.ApproximateNumberOfMessages,
  );

describe('mailroom redrive', () => {
  it('moves dead-lettered messages back to the processing queue, where the processor delivers them', async () => {
    const h = await harness();
    const { queueUrl, dlqUrl } = await createQueues();
    const stored = await storeMessage('Dead-lettered');
    // The processor failed on it until SQS's redrive policy moved it to the dead-letter queue.
    expect((await h.sqs(sqsEvent(sqsRecord(stored.body)))).batchItemFailures).toHaveLength(1);
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: stored.body }));
    webhooks.ticketsDown = false;

    const r = await mailroom(['redrive', '--dlq-url', dlqUrl, '--queue-url', queueUrl]);
    expect(r.code).toBe(0);
    // sqslite has no StartMessageMoveTask: the fallback moves them, and says why.
    expect(r.stdout).toMatch(
      /^moved 1 message\(s\) with receive-send-delete \(StartMessageMoveTask unavailable/,
    );
    expect(sqslite.actions).toContain('StartMessageMoveTask');
    expect(await waiting(dlqUrl)).toBe(0);

    const received = await receiveAll(queueUrl);
    expect(received.map((m) => m.Body)).toEqual([stored.body]);
    const out = await h.sqs(sqsEvent(...received.map(lambdaRecord)));
    expect(out.batchItemFailures).toEqual([]);
    expect(await deliveryStatuses(h.store, stored.id)).toEqual({
      tickets: 'delivered',
      archive: 'delivered',
    });
    expect(webhooks.calls).toEqual({ tickets: 2, archive: 1 });
  });

  it('--max bounds how many move', async () => {
    const { queueUrl, dlqUrl } = await createQueues();
    for (const n of [1, 2, 3])
      await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: `{"n":${n}}` }));
    const r = await mailroom(['redrive', '--dlq-url', dlqUrl, '--queue-url', queueUrl, '--max', '2']);
    expect(r).toMatchObject({ code: 0, stdout: 'moved 2 message(s) with receive-send-delete\n' });
    expect(await waiting(queueUrl)).toBe(2);
  });
});
