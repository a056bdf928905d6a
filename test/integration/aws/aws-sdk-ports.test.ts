import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventBridge, forward, lambda } from '../../../lib/actions/builders.ts';
import type { CloudActionEvent } from '../../../lib/actions/cloud-event.ts';
import { DeliveryError } from '../../../lib/actions/errors.ts';
import { type ActionRun, runAction } from '../../../lib/actions/run-action.ts';
import { uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { AwsActionError } from '../../../lib/aws/aws-action-error.ts';
import { createAwsActionPorts, SES_MAX_MESSAGE_BYTES } from '../../../lib/aws/aws-sdk-ports.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import { parseMessage } from '../../../lib/message/index.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

// AWS cannot run here: a local HTTP server answers the real SDK clients the way the services do.
interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type Answer = { status: number; headers?: Record<string, string>; body?: string };

const requests: Recorded[] = [];
let answer: (req: Recorded) => Answer = () => ({ status: 500 });
let server: Server;
let endpoint: string;
let store: SqliteMessageStore;

beforeAll(async () => {
  store = new SqliteMessageStore(':memory:');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(rec);
      const a = answer(rec);
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await store.close();
});
afterEach(() => {
  requests.length = 0;
});

const clientConfig = () => ({
  region: 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  maxAttempts: 1,
});
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const raw = Buffer.from(
  'From: Alice <alice@example.net>\r\nTo: orders@example.com\r\nSubject: Order 42\r\n' +
    'DKIM-Signature: v=1; d=example.net; b=x\r\nMessage-ID: <m42@example.net>\r\n\r\nship it\r\n',
);

async function run(over: Partial<ActionRun> = {}): Promise<ActionRun> {
  return {
    messageId: 'msg42',
    envelope: { mailFrom: 'alice@example.net', rcptTo: ['orders@example.com'] },
    recipient: 'orders@example.com',
    recipients: ['orders@example.com'],
    message: await parseMessage(raw),
    auth: uncheckedVerdicts('test'),
    params: {},
    raw,
    route: 'orders',
    idempotencyKey: 'msg42:lambda:r0.a0:0123',
    attempt: 1,
    store,
    logger: silentLogger,
    now: () => new Date('2024-05-01T12:00:00.000Z'),
    ...over,
  };
}

describe('createAwsActionPorts: Lambda Invoke', () => {
  it('invokes asynchronously (X-Amz-Invocation-Type: Event) with the event as JSON', async () => {
    answer = () => ({ status: 202 });
    const client = new LambdaClient(clientConfig());
    const ports = createAwsActionPorts({
      lambda: client,
      rawLocation: (id) => ({ bucket: 'raw', key: `smtp/${id}.eml` }),
    });
    const outcome = await runAction(
      lambda('process-order', { qualifier: 'live' }),
      await run({ cloud: ports }),
    );
    expect(outcome).toEqual({ status: 'delivered', detail: 'lambda process-order:live: queued (202)' });
    expect(requests).toHaveLength(1);
    const req = requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/2015-03-31/functions/process-order/invocations?Qualifier=live');
    expect(req.headers['x-amz-invocation-type']).toBe('Event');
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/lambda\//,
    );
    const event = JSON.parse(req.body) as CloudActionEvent;
    expect(event).toMatchObject({
      type: 'message.received',
      id: 'msg42:lambda:r0.a0:0123',
      data: {
        id: 'msg42',
        message: { subject: 'Order 42' },
        raw: { location: { bucket: 'raw', key: 'smtp/msg42.eml' } },
      },
      truncated: false,
    });
    client.destroy();
  });

  it('maps a service error to AwsActionError (code, status, cause), wrapped in a DeliveryError', async () => {
    answer = () =>
      json(
        404,
        { Type: 'User', message: 'Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope' },
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      );
    const client = new LambdaClient(clientConfig());
    const err = (await runAction(
      lambda('nope'),
      await run({ cloud: createAwsActionPorts({ lambda: client }) }),
    ).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.status).toBe(404);
    expect(err.message).toBe(
      'lambda nope failed: Lambda Invoke failed: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope',
    );
    const cause = err.cause as AwsActionError;
    expect(cause).toBeInstanceOf(AwsActionError);
    expect(cause.name).toBe('AwsActionError');
    expect(cause.code).toBe('ResourceNotFoundException');
    expect((cause.cause as Error).name).toBe('ResourceNotFoundException');
    client.destroy();
  });

  it('treats a 5xx answer as a failure with the status and the SDK error as cause', async () => {
    answer = () => json(503, { message: 'try later' }, { 'x-amzn-errortype': 'ServiceException' });
    const client = new LambdaClient(clientConfig());
    const ports = createAwsActionPorts({ lambda: client });
    const err = (await ports
      .invokeLambda?.({ functionName: 'fn', event: {} as CloudActionEvent, idempotencyKey: 'k' })
      .catch((e: unknown) => e)) as AwsActionError;
    expect(err).toBeInstanceOf(AwsActionError);
    expect(err.status).toBe(503);
    expect(err.message).toBe('Lambda Invoke failed: ServiceException: try later');
    expect(err.cause).toBeInstanceOf(Error);
    client.destroy();
  });

  it('refuses an answer other than 202 (the call was not queued)', async () => {
    answer = () => ({ status: 200, body: '{}' });
    const client = new LambdaClient(clientConfig());
    const ports = createAwsActionPorts({ lambda: client });
    await expect(
      ports.invokeLambda?.({ functionName: 'fn', event: {} as CloudActionEvent, idempotencyKey: 'k' }),
    ).rejects.toThrow('Lambda Invoke answered 200 instead of 202 (queued)');
    client.destroy();
  });
});

describe('createAwsActionPorts: EventBridge PutEvents', () => {
  it('puts one entry with bus, source, detail-type and the event as detail', async () => {
    answer = () => json(200, { FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });
    const client = new EventBridgeClient(clientConfig());
    const ports = createAwsActionPorts({ eventBridge: client });
    const outcome = await runAction(eventBridge('orders'), await run({ cloud: ports }));
    expect(outcome).toEqual({ status: 'delivered', detail: 'eventBridge orders: event ev-1' });
    const req = requests[0]!;
    expect(req.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    const body = JSON.parse(req.body) as { Entries: Array<Record<string, string>> };
    expect(body.Entries).toHaveLength(1);
    const entry = body.Entries[0]!;
    expect(entry).toMatchObject({
      EventBusName: 'orders',
      Source: 'mailroom',
      DetailType: 'mailroom.message',
    });
    expect(JSON.parse(entry.Detail!)).toMatchObject({
      id: 'msg42:lambda:r0.a0:0123',
      data: { route: 'orders' },
    });
    client.destroy();
  });

  it('turns a refused entry (FailedEntryCount 1) into an error with its code', async () => {
    answer = () =>
      json(200, {
        FailedEntryCount: 1,
        Entries: [
          { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
        ],
      });
    const client = new EventBridgeClient(clientConfig());
    const err = (await runAction(
      eventBridge('orders'),
      await run({ cloud: createAwsActionPorts({ eventBridge: client }) }),
    ).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.message).toBe(
      'eventBridge orders failed: EventBridge refused the event: NotAuthorizedForSourceException: Not authorized for the source.',
    );
    expect((err.cause as AwsActionError).code).toBe('NotAuthorizedForSourceException');
    client.destroy();
  });

  it('maps a 500 to an error with status and cause', async () => {
    answer = () => json(500, { __type: 'InternalException', message: 'boom' });
    const client = new EventBridgeClient(clientConfig());
    const ports = createAwsActionPorts({ eventBridge: client });
    const err = (await ports
      .putEvent?.({
        eventBusName: 'orders',
        source: 'mailroom',
        detailType: 'mailroom.message',
        detail: {} as CloudActionEvent,
        idempotencyKey: 'k',
      })
      .catch((e: unknown) => e)) as AwsActionError;
    expect(err).toBeInstanceOf(AwsActionError);
    expect(err.status).toBe(500);
    expect(err.code).toBe('InternalException');
    expect(err.message).toBe('EventBridge PutEvents failed: InternalException: boom');
    client.destroy();
  });
});

describe('createAwsActionPorts: SES forward', () => {
  it('sends the rewritten raw message from forwardFrom to the targets only', async () => {
    answer = () => json(200, { MessageId: '0100018f-ses' });
    const client = new SESv2Client(clientConfig());
    const ports = createAwsActionPorts({
      ses: client,
      forwardFrom: 'Orders Desk <fwd@example.com>',
      configurationSetName: 'forwards',
    });
    const outcome = await runAction(forward(['ops@example.org']), await run({ cloud: ports }));
    expect(outcome).toEqual({
      status: 'delivered',
      detail: 'forwarded to ops@example.org from fwd@example.com: SES message 0100018f-ses',
    });
    const req = requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v2/email/outbound-emails');
    const body = JSON.parse(req.body) as {
      FromEmailAddress: string;
      Destination: { ToAddresses: string[] };
      ConfigurationSetName: string;
      Content: { Raw: { Data: string } };
    };
    expect(body.FromEmailAddress).toBe('fwd@example.com');
    expect(body.Destination).toEqual({ ToAddresses: ['ops@example.org'] });
    expect(body.ConfigurationSetName).toBe('forwards');
    const sent = Buffer.from(body.Content.Raw.Data, 'base64');
    const parsed = await parseMessage(sent);
    expect(parsed.from).toEqual({ address: 'fwd@example.com', name: 'Alice via Orders Desk' });
    expect(parsed.replyTo).toEqual([{ address: 'alice@example.net', name: 'Alice' }]);
    expect(parsed.headers.some((h) => h.key === 'dkim-signature')).toBe(false);
    expect(sent.toString()).toMatch(/\r\n\r\nship it\r\n$/);
    client.destroy();
  });

  it('maps MessageRejected to an error naming the code', async () => {
    answer = () =>
      json(400, { message: 'Email address is not verified.' }, { 'x-amzn-errortype': 'MessageRejected' });
    const client = new SESv2Client(clientConfig());
    const err = (await runAction(
      forward('ops@example.org'),
      await run({ cloud: createAwsActionPorts({ ses: client }) }),
    ).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.status).toBe(400);
    expect(err.message).toBe(
      'forward to ops@example.org failed: SES SendEmail failed: MessageRejected: Email address is not verified.',
    );
    client.destroy();
  });

  it('refuses a message over the SES size limit without calling SES', async () => {
    const client = new SESv2Client(clientConfig());
    const ports = createAwsActionPorts({ ses: client });
    await expect(
      ports.forward?.({
        raw: Buffer.alloc(SES_MAX_MESSAGE_BYTES + 1),
        envelope: { from: 'fwd@example.com', to: ['ops@example.org'] },
        context: { id: 'k', messageId: '<m@x>', inReplyTo: null, subject: null, date: new Date() },
        idempotencyKey: 'k',
      }),
    ).rejects.toThrow(`SES sends at most ${SES_MAX_MESSAGE_BYTES}`);
    expect(requests).toHaveLength(0);
    client.destroy();
  });

  it('offers only the ports it has clients for', () => {
    const ports = createAwsActionPorts({ forwardFrom: 'fwd@example.com' });
    expect(ports.invokeLambda).toBeUndefined();
    expect(ports.putEvent).toBeUndefined();
    expect(ports.forward).toBeUndefined();
    expect(ports.forwardFrom).toBe('fwd@example.com');
  });
});
