/**
 * Runs the built processor bundle's `handler` in a fresh Node process, configured only through the
 * environment as Lambda configures it, on one SQS event (an S3 notification for a message that
 * `mailroom smtp` would have stored) against s3rver and dynalite; checks the message was processed.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { createMessageTable } from '../lib/aws/dynamo-create-table.ts';
import { S3RawStore } from '../lib/aws/s3-raw-store.ts';
import { newMessageId } from '../lib/store/message-id.ts';
import { s3ObjectCreated, sqsEvent, sqsRecord } from '../test/fixtures/aws/aws-events.ts';
import { dynamoClientFor, s3ClientFor, startDynalite, startS3rver } from '../test/support/aws-emulators.ts';

export async function smokeTestBundle(bundle: string): Promise<{ ms: number; detail: string }> {
  const s3rver = await startS3rver({ buckets: ['raw'] });
  const dynalite = await startDynalite();
  const s3 = s3ClientFor(s3rver.endpoint);
  const dynamo = dynamoClientFor(dynalite.endpoint);
  try {
    await createMessageTable(dynamo, 'mailroom');
    const id = newMessageId();
    const raw = Buffer.from(
      'From: Ada <ada@sender.test>\r\nTo: support@example.com\r\nSubject: Printer on fire\r\n' +
        'Message-ID: <smoke@sender.test>\r\n\r\nHelp!\r\n',
    );
    const store = new S3RawStore({ client: s3, bucket: 'raw' });
    await store.put(id, raw, { envelope: { mailFrom: 'ada@sender.test', rcptTo: ['support@example.com'] } });
    const event = sqsEvent(sqsRecord(s3ObjectCreated('raw', store.keyFor(id), raw.length)));
    const script =
      `const { handler } = await import(${JSON.stringify(bundle)});` +
      'const t = process.hrtime.bigint();' +
      `const out = await handler(${JSON.stringify(event)});` +
      'process.stdout.write(JSON.stringify({ ms: Number(process.hrtime.bigint() - t) / 1e6, out }));';
    // Asynchronously: the emulators answer from this process's event loop.
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        NODE_NO_WARNINGS: '1',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_ENDPOINT_URL_S3: s3rver.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
        MAILROOM_RAW_BUCKET: 'raw',
        MAILROOM_TABLE: 'mailroom',
        MAILROOM_LOG_LEVEL: 'error',
        MAILROOM_REPLY_KEY: randomUUID(),
      },
      encoding: 'utf8',
    });
    const result = JSON.parse(stdout) as { ms: number; out: { batchItemFailures: unknown[] } };
    const item = await dynamo.send(
      new GetItemCommand({
        TableName: 'mailroom',
        Key: { pk: { S: `MSG#${id}` }, sk: { S: 'MESSAGE' } },
        ConsistentRead: true,
      }),
    );
    const status = item.Item ? (unmarshall(item.Item) as { status?: string }).status : 'no record';
    if (result.out.batchItemFailures.length > 0 || status !== 'processed') {
      throw new Error(`the bundle did not process the message: ${JSON.stringify(result.out)}, ${status}`);
    }
    return { ms: result.ms, detail: `status ${status}, no batch item failures` };
  } finally {
    s3.destroy();
    dynamo.destroy();
    await s3rver.close();
    await dynalite.close();
  }
}
