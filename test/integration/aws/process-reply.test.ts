/**
 * A handler's `ctx.reply` from the processing Lambda: sent through Amazon SES by the real SESv2 client (its
 * endpoint, AWS_ENDPOINT_URL_SESV2, is a local stand-in that records the call), kept in the DynamoDB
 * outbox, and sent once however often SQS delivers the notification.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessHandler } from '../../../functions/process.ts';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { DynamoMessageStore } from '../../../lib/aws/dynamo-message-store.ts';
import { S3RawStore } from '../../../lib/aws/s3-raw-store.ts';
import { defineMailroom, handler } from '../../../lib/index.ts';
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

const config = defineMailroom({
  domains: ['example.com'],
  auth: { dns: {} },
  outbound: { from: 'Support <support@example.com>' },
  routes: [
    {
      name: 'support',
      match: 'support@example.com',
      action: handler(async (ctx) => {
        await ctx.reply({ text: 'We got your message and will answer soon.' });
      }),
    },
  ],
});

let s3rver: S3rverHandle;
let dynalite: DynaliteHandle;
let s3: S3Client;
let dynamo: DynamoDBClient;
let ses: Server;
const sent: Array<{ path: string | undefined; body: Record<string, unknown> }> = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  [s3rver, dynalite] = await Promise.all([startS3rver({ buckets: ['raw'] }), startDynalite()]);
  s3 = s3ClientFor(s3rver.endpoint);
  dynamo = dynamoClientFor(dynalite.endpoint);
  ses = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => {
      data += c.toString();
    });
    req.on('end', () => {
      sent.push({ path: req.url, body: JSON.parse(data) as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ MessageId: `0100018f-ses-${sent.length}` }));
    });
  });
  await new Promise<void>((resolve) => ses.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SESV2: `http://127.0.0.1:${(ses.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});

afterAll(async () => {
  process.env = savedEnv;
  s3?.destroy();
  dynamo?.destroy();
  await Promise.all([s3rver?.close(), dynalite?.close(), new Promise((r) => ses?.close(r))]);
});

describe('ctx.reply in the processing Lambda', () => {
  it('sends the reply through SES once, keeps it in the outbox, and threads it to the original', async () => {
    await createMessageTable(dynamo, 'replies');
    const raw = new S3RawStore({ client: s3, bucket: 'raw' });
    const id = newMessageId();
    const message = Buffer.from(
      'From: Ada <ada@sender.test>\r\nTo: support@example.com\r\nSubject: Printer on fire\r\n' +
        'Message-ID: <fire@sender.test>\r\n\r\nHelp!\r\n',
    );
    await raw.put(id, message, {
      envelope: { mailFrom: 'ada@sender.test', rcptTo: ['support@example.com'] },
    });
    const handle = createProcessHandler({
      config,
      env: { MAILROOM_RAW_BUCKET: 'raw', MAILROOM_TABLE: 'replies' },
      s3,
      dynamo,
      logger: silentLogger,
      emit: async () => {},
    });
    const record = sqsRecord(s3ObjectCreated('raw', raw.keyFor(id), message.length));
    expect((await handle(sqsEvent(record))) as SQSBatchResponse).toEqual({ batchItemFailures: [] });
    // SQS delivers the same notification again: nothing is sent twice.
    expect((await handle(sqsEvent(record))) as SQSBatchResponse).toEqual({ batchItemFailures: [] });

    expect(sent).toHaveLength(1);
    const call = sent[0]!;
    expect(call.path).toBe('/v2/email/outbound-emails');
    expect(call.body).toMatchObject({
      FromEmailAddress: 'support@example.com',
      Destination: { ToAddresses: ['ada@sender.test'] },
    });
    const bytes = Buffer.from(
      (call.body as { Content: { Raw: { Data: string } } }).Content.Raw.Data,
      'base64',
    ).toString();
    expect(bytes).toMatch(/^In-Reply-To: <fire@sender\.test>\r$/m);
    expect(bytes).toMatch(/^Subject: Re: Printer on fire\r$/m);
    expect(bytes).toContain('We got your message and will answer soon.');

    const store = new DynamoMessageStore({ client: dynamo, tableName: 'replies' });
    const outbox = await store.listOutbox({ inReplyTo: id });
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      transport: 'ses',
      to: ['ada@sender.test'],
      subject: 'Re: Printer on fire',
    });
    const trace = (await store.getMessage(id))!.trace.map((t) => t.step);
    expect(trace.filter((s) => s === 'reply sent')).toHaveLength(1);
  });
});
