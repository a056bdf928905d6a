import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drop, handler, mailbox, reject, webhook } from '../../../lib/actions/builders.ts';
import { DeliveryError } from '../../../lib/actions/errors.ts';
import { type ActionRun, runAction } from '../../../lib/actions/run-action.ts';
import type { HandlerContext } from '../../../lib/actions/types.ts';
import type { WebhookPayload } from '../../../lib/actions/webhook-payload.ts';
import { verifyWebhook } from '../../../lib/actions/webhook-signature.ts';
import { uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

const message: ParsedMessage = {
  messageId: '<m1@example.net>',
  date: null,
  subject: 'Hello',
  from: { address: 'alice@example.net', name: 'Alice' },
  to: [{ address: 'support@example.com', name: '' }],
  cc: [],
  replyTo: [],
  inReplyTo: null,
  references: [],
  text: 'hi',
  html: null,
  attachments: [],
  headers: [{ key: 'subject', value: 'Hello' }],
  reply: { text: 'hi', signature: null },
  thread: { id: 't1' },
  problems: [],
};

let store: SqliteMessageStore;
beforeEach(() => {
  store = new SqliteMessageStore(':memory:');
});
afterEach(async () => {
  await store.close();
});

function run(over: Partial<ActionRun> = {}): ActionRun {
  return {
    messageId: 'msg1',
    envelope: { mailFrom: 'alice@example.net', rcptTo: ['support@example.com', 'support+x@example.com'] },
    recipient: 'support@example.com',
    recipients: ['support@example.com', 'support+x@example.com'],
    message,
    auth: uncheckedVerdicts('test'),
    params: { tag: 'x' },
    raw: Buffer.from('Subject: Hello\r\n\r\nhi\r\n'),
    route: 'support',
    idempotencyKey: 'msg1:handler:r0.a0:abc',
    attempt: 1,
    store,
    logger: silentLogger,
    now: () => new Date('2024-05-01T12:00:00.000Z'),
    ...over,
  };
}

describe('runAction: mailbox, drop, reject', () => {
  it('stores a mailbox entry once', async () => {
    expect(await runAction(mailbox('support'), run())).toEqual({
      status: 'delivered',
      detail: 'stored in mailbox support',
    });
    expect((await runAction(mailbox('support'), run())).detail).toMatch(/already held/);
    const entries = await store.listMailboxEntries('support');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ messageId: 'msg1', data: { route: 'support', params: { tag: 'x' } } });
  });

  it('drops and rejects without side effects', async () => {
    expect((await runAction(drop(), run())).status).toBe('dropped');
    expect(await runAction(reject(550, '5.7.1 go away'), run())).toEqual({
      status: 'rejected',
      detail: '550 5.7.1 go away',
    });
  });
});

describe('runAction: handler', () => {
  it('passes the whole context and lets the handler fill mailboxes', async () => {
    let seen: HandlerContext | undefined;
    const fn = async (ctx: HandlerContext) => {
      seen = ctx;
      await ctx.mailboxes.put('replies', { text: ctx.message.reply.text });
      await ctx.mailboxes.put('replies', { text: 'again' });
    };
    expect((await runAction(handler(fn, 'onSupport'), run({ attempt: 2 }))).status).toBe('delivered');
    expect(seen).toMatchObject({
      id: 'msg1',
      recipient: 'support@example.com',
      recipients: ['support@example.com', 'support+x@example.com'],
      params: { tag: 'x' },
      idempotencyKey: 'msg1:handler:r0.a0:abc',
      route: 'support',
      attempt: 2,
      envelope: { mailFrom: 'alice@example.net' },
    });
    expect(seen?.raw.toString()).toContain('Subject: Hello');
    expect(seen?.message.subject).toBe('Hello');
    expect(await store.listMailboxEntries('replies')).toMatchObject([{ data: { text: 'hi' } }]);
  });

  it('wraps a throwing handler in a DeliveryError with the cause', async () => {
    const boom = new Error('boom');
    const err = await runAction(
      handler(() => {
        throw boom;
      }, 'bad'),
      run(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).name).toBe('DeliveryError');
    expect((err as DeliveryError).message).toBe('handler bad failed: boom');
    expect((err as DeliveryError).cause).toBe(boom);
  });

  it('refuses an invalid mailbox name from a handler', async () => {
    await expect(
      runAction(
        handler((ctx) => ctx.mailboxes.put('../etc'), 'h'),
        run(),
      ),
    ).rejects.toThrow(/invalid mailbox name/);
  });
});

describe('runAction: webhook', () => {
  interface Received {
    headers: IncomingHttpHeaders;
    body: string;
  }
  let server: Server;
  let base: string;
  let received: Received[] = [];
  let answer = 204;
  let delayMs = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        setTimeout(() => {
          res.statusCode = answer;
          res.end(answer >= 400 ? 'upstream broke\n' : '');
        }, delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received = [];
    answer = 204;
    delayMs = 0;
  });

  const secret = `whsec_${Buffer.from('a very secret key of 32 bytes!!').toString('base64')}`;

  it('POSTs the signed Standard Webhooks payload', async () => {
    const outcome = await runAction(webhook(`${base}/hook?token=t`, { secret }), run());
    expect(outcome.status).toBe('delivered');
    expect(received).toHaveLength(1);
    const [req] = received;
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['webhook-id']).toBe('msg1:handler:r0.a0:abc');
    expect(req?.headers['webhook-timestamp']).toBe(String(Date.parse('2024-05-01T12:00:00.000Z') / 1000));
    expect(req?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    verifyWebhook({
      secret,
      headers: req!.headers,
      body: req!.body,
      now: Date.parse('2024-05-01T12:00:00.000Z') / 1000,
    });
    const payload = JSON.parse(req!.body) as WebhookPayload;
    expect(payload).toEqual({
      type: 'message.received',
      id: 'msg1:handler:r0.a0:abc',
      timestamp: '2024-05-01T12:00:00.000Z',
      data: {
        id: 'msg1',
        envelope: { mailFrom: 'alice@example.net', rcptTo: ['support@example.com', 'support+x@example.com'] },
        recipient: 'support@example.com',
        recipients: ['support@example.com', 'support+x@example.com'],
        route: 'support',
        params: { tag: 'x' },
        message,
        auth: uncheckedVerdicts('test'),
      },
    });
  });

  it('sends no signature header without a secret', async () => {
    await runAction(webhook(`${base}/hook`), run());
    expect(received[0]?.headers['webhook-signature']).toBeUndefined();
    expect(received[0]?.headers['webhook-id']).toBe('msg1:handler:r0.a0:abc');
  });

  it('fails on a non-2xx answer with the status in the error', async () => {
    answer = 503;
    const err = (await runAction(webhook(`${base}/hook`, { secret }), run()).catch(
      (e: unknown) => e,
    )) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.status).toBe(503);
    expect(err.message).toBe('webhook answered 503 Service Unavailable: upstream broke');
  });

  it('fails on a timeout and on a refused connection', async () => {
    delayMs = 500;
    await expect(runAction(webhook(`${base}/hook`, { timeoutMs: 50 }), run())).rejects.toThrow(
      /timed out after 50 ms/,
    );
    await expect(runAction(webhook('http://127.0.0.1:1/hook'), run())).rejects.toThrow(
      /webhook request failed/,
    );
  });
});
