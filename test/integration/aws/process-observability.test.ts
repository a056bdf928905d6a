/**
 * The processing Lambda's observability, read where CloudWatch reads it: the handler runs against s3rver +
 * dynalite with stdout captured, and the test parses the lines it printed — EMF metric lines
 * (`_aws.CloudWatchMetrics`, extracted into metrics by CloudWatch Logs) and Powertools Logger lines.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProcessHandler } from '../../../functions/process.ts';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { S3RawStore } from '../../../lib/aws/s3-raw-store.ts';
import { defineMailroom, mailbox, webhook } from '../../../lib/index.ts';
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
import { captureStdout, type EmfMetricValue, emfMetrics, jsonLines } from '../../support/emf-lines.ts';

let s3rver: S3rverHandle;
let dynalite: DynaliteHandle;
let s3: S3Client;
let dynamo: DynamoDBClient;
/** The webhook's endpoint: answers with `hookStatus`. */
let hooks: Server;
let hookStatus = 410;
let tables = 0;

beforeAll(async () => {
  [s3rver, dynalite] = await Promise.all([startS3rver({ buckets: ['raw'] }), startDynalite()]);
  s3 = s3ClientFor(s3rver.endpoint);
  dynamo = dynamoClientFor(dynalite.endpoint);
  hooks = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(hookStatus);
      res.end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  s3?.destroy();
  dynamo?.destroy();
  await Promise.all([s3rver?.close(), dynalite?.close(), new Promise((r) => hooks?.close(r))]);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

const config = () =>
  defineMailroom({
    domains: ['example.com'],
    auth: { dns: {} },
    routes: [
      { name: 'support', match: 'support@example.com', action: mailbox('support') },
      {
        name: 'hooks',
        match: 'hooks@example.com',
        action: webhook(`http://127.0.0.1:${(hooks.address() as AddressInfo).port}/inbound`),
      },
    ],
  });

/** The handler as Lambda runs it (its env names a function), on a fresh table. */
async function lambdaHandler(logger: 'default' | 'silent' = 'silent') {
  const tableName = `observed-${++tables}`;
  await createMessageTable(dynamo, tableName);
  return createProcessHandler({
    config: config(),
    env: { MAILROOM_RAW_BUCKET: 'raw', MAILROOM_TABLE: tableName, AWS_LAMBDA_FUNCTION_NAME: 'processor' },
    s3,
    dynamo,
    emit: async () => {},
    ...(logger === 'silent' ? { logger: silentLogger } : {}),
  });
}

/** A message stored by `mailroom smtp` for `rcpt`, and the SQS event its S3 notification makes. */
async function storedMessage(rcpt: string) {
  const raw = new S3RawStore({ client: s3, bucket: 'raw', prefix: 'smtp/' });
  const id = newMessageId();
  const bytes = Buffer.from(
    `From: Ada <ada@sender.test>\r\nTo: ${rcpt}\r\nSubject: Observed\r\nMessage-ID: <${id}@sender.test>\r\n\r\nHi\r\n`,
  );
  await raw.put(id, bytes, { envelope: { mailFrom: 'ada@sender.test', rcptTo: [rcpt] } });
  const record = sqsRecord(s3ObjectCreated('raw', raw.keyFor(id), bytes.length));
  return { id, record, event: sqsEvent(record) };
}

const lambdaContext = {
  functionName: 'processor',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:processor',
  memoryLimitInMB: '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
} as Context;

/** The one value of a metric among the EMF lines, with the dimensions it was published under. */
function only(values: EmfMetricValue[], name: string, dimensions: Record<string, string>) {
  const found = values.filter(
    (v) => v.name === name && JSON.stringify(v.dimensions) === JSON.stringify(dimensions),
  );
  expect(found, `${name} ${JSON.stringify(dimensions)}`).toHaveLength(1);
  return found[0]!;
}

describe('EMF metrics printed by the processing Lambda', () => {
  it('counts a message delivered to a mailbox: received, processed, delivered, latency', async () => {
    const handle = await lambdaHandler();
    const { event } = await storedMessage('support@example.com');
    const out = await captureStdout(() => handle(event, lambdaContext));
    expect(out.result as SQSBatchResponse).toEqual({ batchItemFailures: [] });

    const values = emfMetrics(out.lines);
    const service = { service: 'mailroom' };
    const mailboxAction = { service: 'mailroom', action: 'mailbox' };
    expect(only(values, 'MessagesReceived', service)).toMatchObject({ namespace: 'Mailroom', value: 1 });
    expect(only(values, 'MessagesProcessed', service)).toMatchObject({ unit: 'Count', value: 1 });
    expect(only(values, 'DeliveriesSucceeded', mailboxAction)).toMatchObject({ unit: 'Count', value: 1 });
    const latency = only(values, 'ReceiptToDeliveryMs', mailboxAction);
    expect(latency.unit).toBe('Milliseconds');
    expect(latency.value).toBeGreaterThanOrEqual(0);
    expect(latency.value).toBeLessThan(60_000);
    expect(values.map((v) => v.name)).not.toContain('DeliveriesFailed');
    // Every line on stdout is JSON: tracing, off outside Lambda, printed nothing.
    expect(out.lines.every((l) => l.parsed !== null)).toBe(true);
  });

  it('counts a webhook answering 410 as a delivery failed for good, under action=webhook', async () => {
    hookStatus = 410;
    const handle = await lambdaHandler();
    const { event } = await storedMessage('hooks@example.com');
    const out = await captureStdout(() => handle(event, lambdaContext));
    // Failed for good: kept for replay, not delivered again by SQS.
    expect(out.result as SQSBatchResponse).toEqual({ batchItemFailures: [] });

    const values = emfMetrics(out.lines);
    expect(only(values, 'MessagesReceived', { service: 'mailroom' }).value).toBe(1);
    expect(only(values, 'DeliveriesFailed', { service: 'mailroom', action: 'webhook' }).value).toBe(1);
    expect(values.map((v) => v.name)).not.toContain('MessagesProcessed');
    expect(values.map((v) => v.name)).not.toContain('DeliveryRetries');
  });

  it('counts a webhook answering 503 as a retry (SQS delivers the message again)', async () => {
    hookStatus = 503;
    const handle = await lambdaHandler();
    const { event, record } = await storedMessage('hooks@example.com');
    const out = await captureStdout(() => handle(event, lambdaContext));
    expect(out.result as SQSBatchResponse).toEqual({
      batchItemFailures: [{ itemIdentifier: record.messageId }],
    });
    const values = emfMetrics(out.lines);
    expect(only(values, 'DeliveryRetries', { service: 'mailroom', action: 'webhook' }).value).toBe(1);
    expect(values.map((v) => v.name)).not.toContain('DeliveriesFailed');

    // The webhook is back: the redelivery succeeds, counted once, and the message is not received twice.
    hookStatus = 204;
    const again = await captureStdout(() => handle(event, lambdaContext));
    const next = emfMetrics(again.lines);
    expect(only(next, 'DeliveriesSucceeded', { service: 'mailroom', action: 'webhook' }).value).toBe(1);
    expect(only(next, 'MessagesProcessed', { service: 'mailroom' }).value).toBe(1);
    expect(next.map((v) => v.name)).not.toContain('MessagesReceived');
    expect(
      only(next, 'ReceiptToDeliveryMs', { service: 'mailroom', action: 'webhook' }).value,
    ).toBeGreaterThanOrEqual(0);
  });

  it('prints no metrics outside a Lambda runtime unless asked', async () => {
    const tableName = `observed-${++tables}`;
    await createMessageTable(dynamo, tableName);
    const handle = createProcessHandler({
      config: config(),
      env: { MAILROOM_RAW_BUCKET: 'raw', MAILROOM_TABLE: tableName },
      s3,
      dynamo,
      logger: silentLogger,
      emit: async () => {},
    });
    const { event } = await storedMessage('support@example.com');
    const out = await captureStdout(() => handle(event));
    expect(out.lines).toEqual([]);
  });
});

describe('Powertools Logger lines of the processing Lambda', () => {
  it('carry the message id as correlation id, the SQS message id, and the cold start', async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    vi.stubEnv('MAILROOM_LOG_LEVEL', 'info');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', undefined);
    const handle = await lambdaHandler('default');
    const first = await storedMessage('support@example.com');
    const out = await captureStdout(() => handle(first.event, lambdaContext));
    const logs = jsonLines(out.lines).filter((l) => !('_aws' in l));
    const processed = logs.find((l) => l.message === 'processed');
    expect(processed).toMatchObject({
      level: 'INFO',
      service: 'mailroom',
      cold_start: true,
      function_request_id: lambdaContext.awsRequestId,
      id: first.id,
      correlation_id: first.id,
      record: first.record.messageId,
    });

    const second = await storedMessage('support@example.com');
    const warm = jsonLines((await captureStdout(() => handle(second.event, lambdaContext))).lines);
    expect(warm.find((l) => l.message === 'processed')).toMatchObject({
      cold_start: false,
      correlation_id: second.id,
    });
  });
});
