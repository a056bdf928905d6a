import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventBridge, forward, lambda, mailbox } from '../../../lib/actions/builders.ts';
import type { CloudActionEvent } from '../../../lib/actions/cloud-event.ts';
import type {
  CloudActionPorts,
  ForwardRequest,
  LambdaInvokeRequest,
  PutEventRequest,
} from '../../../lib/actions/cloud-port-contract.ts';
import { DeliveryError } from '../../../lib/actions/errors.ts';
import { forwardKey } from '../../../lib/actions/kinds/forward.ts';
import { createLocalActionPorts } from '../../../lib/actions/local-port-stand-ins.ts';
import { type ActionRun, actionTarget, runAction } from '../../../lib/actions/run-action.ts';
import { uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import { parseMessage } from '../../../lib/message/index.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import { OutboxMail } from '../../../lib/outbound/outbox-mail.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { createTestMailroom } from '../../../lib/testing/index.ts';

const raw = Buffer.from(
  'From: Alice <alice@example.net>\r\nTo: support@example.com\r\nSubject: Hello\r\nMessage-ID: <m1@example.net>\r\n\r\nhi\r\n',
);
let message: ParsedMessage;
let store: SqliteMessageStore;
beforeEach(async () => {
  message = await parseMessage(raw);
  store = new SqliteMessageStore(':memory:');
});
afterEach(async () => {
  await store.close();
});

function run(over: Partial<ActionRun> = {}): ActionRun {
  return {
    messageId: 'msg1',
    envelope: { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] },
    recipient: 'support@example.com',
    recipients: ['support@example.com'],
    message,
    auth: uncheckedVerdicts('test'),
    params: {},
    raw,
    route: 'support',
    idempotencyKey: 'msg1:lambda:r0.a0:abc',
    attempt: 1,
    store,
    logger: silentLogger,
    now: () => new Date('2024-05-01T12:00:00.000Z'),
    ...over,
  };
}

/** Ports that keep what they were asked to do. */
function recordingPorts(extra: Partial<CloudActionPorts> = {}) {
  const calls = {
    lambda: [] as LambdaInvokeRequest[],
    events: [] as PutEventRequest[],
    forwards: [] as ForwardRequest[],
  };
  const ports: CloudActionPorts = {
    async invokeLambda(r) {
      calls.lambda.push(r);
      return { detail: 'queued (202)' };
    },
    async putEvent(r) {
      calls.events.push(r);
      return { detail: 'event e-1' };
    },
    async forward(r) {
      calls.forwards.push(r);
      return { detail: 'SES message ses-1' };
    },
    rawLocation: (id) => ({ bucket: 'raw-bucket', key: `smtp/${id}.eml` }),
    ...extra,
  };
  return { ports, calls };
}

describe('runAction: lambda and eventBridge', () => {
  it('invokes the function with the delivery event and its key', async () => {
    const { ports, calls } = recordingPorts();
    const outcome = await runAction(lambda('process-order', { qualifier: 'live' }), run({ cloud: ports }));
    expect(outcome).toEqual({ status: 'delivered', detail: 'lambda process-order:live: queued (202)' });
    expect(calls.lambda).toHaveLength(1);
    const request = calls.lambda[0]!;
    expect(request).toMatchObject({
      functionName: 'process-order',
      qualifier: 'live',
      idempotencyKey: 'msg1:lambda:r0.a0:abc',
    });
    expect(request.event).toMatchObject({
      type: 'message.received',
      id: 'msg1:lambda:r0.a0:abc',
      timestamp: '2024-05-01T12:00:00.000Z',
      data: {
        id: 'msg1',
        route: 'support',
        recipient: 'support@example.com',
        message: { subject: 'Hello', from: { address: 'alice@example.net', name: 'Alice' } },
        raw: { size: raw.length, location: { bucket: 'raw-bucket', key: 'smtp/msg1.eml' } },
      },
      truncated: false,
    });
  });

  it('puts one event with the default source and detail-type', async () => {
    const { ports, calls } = recordingPorts();
    const outcome = await runAction(eventBridge('orders'), run({ cloud: ports }));
    expect(outcome).toEqual({ status: 'delivered', detail: 'eventBridge orders: event e-1' });
    expect(calls.events[0]).toMatchObject({
      eventBusName: 'orders',
      source: 'mailroom',
      detailType: 'mailroom.message',
      idempotencyKey: 'msg1:lambda:r0.a0:abc',
    });
    const custom = await runAction(
      eventBridge('orders', { source: 'shop', detailType: 'mail in' }),
      run({ cloud: ports }),
    );
    expect(custom.status).toBe('delivered');
    expect(calls.events[1]).toMatchObject({ source: 'shop', detailType: 'mail in' });
  });

  it('says in the trace detail when the event was trimmed', async () => {
    const { ports } = recordingPorts();
    const big = { ...message, text: 'x'.repeat(300_000) };
    const outcome = await runAction(lambda('fn'), run({ cloud: ports, message: big }));
    expect(outcome.detail).toBe('lambda fn: queued (202) (event trimmed to fit: data.message.text)');
  });

  it('fails with a DeliveryError naming the AWS processor when no port is given', async () => {
    for (const action of [lambda('fn'), eventBridge('bus'), forward('ops@example.org')]) {
      const err = await runAction(action, run()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect((err as Error).message).toBe(
        `${action.kind} actions need the AWS processor (functions/process.ts), which injects ` +
          'createAwsActionPorts() from lib/aws; in local development `mailroom dev` records them instead ' +
          '(createLocalActionPorts), and an embedded pipeline can pass its own `cloud` ports to createPipeline()',
      );
    }
  });

  it('wraps a port failure in a DeliveryError with the cause and HTTP status', async () => {
    const cause = Object.assign(new Error('Rate exceeded'), {
      name: 'TooManyRequestsException',
      $metadata: { httpStatusCode: 429 },
    });
    const { ports } = recordingPorts({
      invokeLambda: async () => {
        throw cause;
      },
    });
    const err = (await runAction(lambda('fn'), run({ cloud: ports })).catch(
      (e: unknown) => e,
    )) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.message).toBe('lambda fn failed: Rate exceeded');
    expect(err.status).toBe(429);
    expect(err.cause).toBe(cause);
  });
});

describe('runAction: forward', () => {
  it('sends the rewritten message from the recipient by default, to the targets only', async () => {
    const { ports, calls } = recordingPorts();
    const outcome = await runAction(forward(['ops@example.org', 'boss@example.org']), run({ cloud: ports }));
    expect(outcome).toEqual({
      status: 'delivered',
      detail: 'forwarded to ops@example.org, boss@example.org from support@example.com: SES message ses-1',
    });
    const request = calls.forwards[0]!;
    expect(request.envelope).toEqual({
      from: 'support@example.com',
      to: ['ops@example.org', 'boss@example.org'],
    });
    expect(request.context).toMatchObject({
      id: forwardKey('msg1:lambda:r0.a0:abc'),
      messageId: '<m1@example.net>',
      inReplyTo: 'msg1',
      subject: 'Hello',
    });
    const sent = await parseMessage(request.raw);
    expect(sent.from).toEqual({ address: 'support@example.com', name: 'Alice via Mailroom' });
    expect(sent.replyTo).toEqual([{ address: 'alice@example.net', name: 'Alice' }]);
  });

  it("takes the port's forwardFrom, and the action's from over it", async () => {
    const { ports, calls } = recordingPorts({ forwardFrom: 'Mail Desk <desk@example.com>' });
    await runAction(forward('ops@example.org'), run({ cloud: ports }));
    await runAction(forward('ops@example.org', { from: 'fwd@example.com' }), run({ cloud: ports }));
    expect(calls.forwards.map((f) => f.envelope.from)).toEqual(['desk@example.com', 'fwd@example.com']);
    expect((await parseMessage(calls.forwards[0]!.raw)).from?.name).toBe('Alice via Mail Desk');
  });

  it('drops, with the reason, a forward that loop safety forbids (nothing is sent)', async () => {
    const { ports, calls } = recordingPorts();
    const outcome = await runAction(forward('support@example.com'), run({ cloud: ports }));
    expect(outcome).toEqual({
      status: 'dropped',
      detail:
        'forward to support@example.com skipped: the forward would go back to support@example.com, which routed the message here',
    });
    expect(calls.forwards).toHaveLength(0);
  });

  it('fails clearly on an unusable From', async () => {
    const { ports } = recordingPorts({ forwardFrom: 'not an address' });
    const err = await runAction(forward('ops@example.org'), run({ cloud: ports })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as Error).message).toMatch(
      /^forward to ops@example.org: From address "not an address" must be one mailbox/,
    );
  });
});

describe('createLocalActionPorts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-cloud-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records events to one file per delivery, rewritten on retry, and says so', async () => {
    const cloud = createLocalActionPorts({ record: { dir } });
    const first = await runAction(lambda('process-order'), run({ cloud }));
    const again = await runAction(lambda('process-order'), run({ cloud, attempt: 2 }));
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    const file = join(dir, files[0]!);
    expect(first).toEqual({
      status: 'delivered',
      detail: `lambda process-order: not invoked (local stand-in): event recorded in ${file}`,
    });
    expect(again.detail).toBe(first.detail);
    const saved = JSON.parse(await readFile(file, 'utf8')) as {
      kind: string;
      target: string;
      event: CloudActionEvent;
    };
    expect(saved).toMatchObject({
      kind: 'lambda',
      target: 'process-order',
      idempotencyKey: 'msg1:lambda:r0.a0:abc',
    });
    expect(saved.event.data.message.subject).toBe('Hello');
    expect(cloud.recorded()).toEqual([]);
  });

  it('keeps events in memory for tests, one per delivery', async () => {
    const cloud = createLocalActionPorts();
    await runAction(eventBridge('orders', { detailType: 'mail' }), run({ cloud }));
    await runAction(eventBridge('orders', { detailType: 'mail' }), run({ cloud, attempt: 2 }));
    expect(cloud.recorded()).toMatchObject([
      { kind: 'eventBridge', target: 'orders', source: 'mailroom', detailType: 'mail' },
    ]);
  });

  it('has no stand-in with record: false, and forwards into the outbox', async () => {
    const cloud = createLocalActionPorts({ record: false, outbound: new OutboxMail(store) });
    await expect(runAction(lambda('fn'), run({ cloud }))).rejects.toThrow(/need the AWS processor/);
    const outcome = await runAction(forward('ops@example.org'), run({ cloud }));
    expect(outcome.detail).toBe(
      'forwarded to ops@example.org from support@example.com: kept in the outbox (not sent) as <m1@example.net>',
    );
    const entry = await store.getOutboxEntry(forwardKey('msg1:lambda:r0.a0:abc'));
    expect(entry?.envelope).toEqual({ from: 'support@example.com', to: ['ops@example.org'] });
    expect(entry?.raw.toString()).toContain('X-Mailroom-Forwarded-For: support@example.com');
  });
});

describe('actionTarget', () => {
  it('names the function, the bus and the targets', () => {
    expect(actionTarget(lambda('fn', { qualifier: '3' }))).toBe('fn:3');
    expect(actionTarget(eventBridge('orders'))).toBe('orders');
    expect(actionTarget(forward(['a@example.org', 'b@example.org']))).toBe('a@example.org, b@example.org');
  });
});

describe('mailroom/testing with cloud actions', () => {
  it('runs lambda, eventBridge and forward routes through the real pipeline', async () => {
    const mailroom = await createTestMailroom({
      domains: ['example.com'],
      routes: [
        {
          name: 'orders',
          match: 'orders@example.com',
          action: [
            lambda('process-order'),
            eventBridge('orders'),
            forward('ops@example.org'),
            mailbox('orders'),
          ],
        },
      ],
    });
    try {
      const result = await mailroom.deliver(raw.toString().replace('support@', 'orders@'), {
        from: 'alice@example.net',
        to: 'orders@example.com',
      });
      expect(result.status).toBe('processed');
      expect(result.deliveries.map((d) => [d.action, d.status])).toEqual([
        ['lambda', 'delivered'],
        ['eventBridge', 'delivered'],
        ['forward', 'delivered'],
        ['mailbox', 'delivered'],
      ]);
      expect(mailroom.cloudActions().map((a) => [a.kind, a.target])).toEqual([
        ['lambda', 'process-order'],
        ['eventBridge', 'orders'],
      ]);
      expect(mailroom.cloudActions()[0]?.event.data.recipient).toBe('orders@example.com');
      const outbox = await mailroom.outbox();
      expect(outbox).toHaveLength(1);
      expect(outbox[0]).toMatchObject({
        from: 'orders@example.com',
        to: ['ops@example.org'],
        inReplyTo: result.id,
      });
    } finally {
      await mailroom.close();
    }
  });
});
