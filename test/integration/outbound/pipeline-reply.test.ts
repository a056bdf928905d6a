import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler, mailbox } from '../../../lib/actions/builders.ts';
import type { HandlerContext } from '../../../lib/actions/types.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import type { MailroomConfig } from '../../../lib/config/types.ts';
import { handleApiRequest } from '../../../lib/dev/http-api.ts';
import { SseHub } from '../../../lib/dev/sse-hub.ts';
import { parseMessage } from '../../../lib/message/parse-message.ts';
import { createOutboundMail } from '../../../lib/outbound/create-outbound-mail.ts';
import { OutboundConfigError } from '../../../lib/outbound/errors.ts';
import type { OutboundMail, ReplyResult } from '../../../lib/outbound/types.ts';
import { createPipeline, type Pipeline } from '../../../lib/pipeline/create-pipeline.ts';
import { createRouter } from '../../../lib/routing/index.ts';
import type { MessageSummary } from '../../../lib/store/index.ts';
import { MemoryRawStore } from '../../../lib/store/memory-raw-store.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

function eml(headers: string[], body = 'My printer is on fire.'): Buffer {
  return Buffer.from([...headers, '', body, ''].join('\r\n'));
}

const question = eml([
  'From: Ada Lovelace <ada@example.net>',
  'To: support@example.com',
  'Subject: Printer on fire',
  'Message-ID: <q1@example.net>',
  'Date: Wed, 01 May 2024 12:00:00 +0000',
]);

describe('replies through the pipeline', () => {
  let store: SqliteMessageStore;
  let rawStore: MemoryRawStore;
  let pipeline: Pipeline;
  let config: MailroomConfig;
  let server: Server | null;
  let events: SseHub;
  const results: ReplyResult[] = [];
  const threads: string[] = [];
  let attemptsSeen: number[] = [];

  const replier = async (ctx: HandlerContext) => {
    threads.push(ctx.message.thread.id);
    results.push(await ctx.reply({ text: `Ticket opened for: ${ctx.message.subject}` }));
  };
  /** Replies, then fails its first attempt: the retry must not send a second reply. */
  const flaky = async (ctx: HandlerContext) => {
    attemptsSeen.push(ctx.attempt);
    results.push(await ctx.reply({ text: `attempt ${ctx.attempt}` }));
    if (ctx.attempt === 1) throw new Error('database hiccup after replying');
  };

  const start = (outbound: OutboundMail | undefined) => {
    config = resolveConfig({
      domains: ['example.com'],
      routes: [
        { name: 'support', match: 'support@example.com', action: handler(replier, 'replier') },
        { name: 'flaky', match: 'flaky@example.com', action: handler(flaky, 'flaky') },
        { name: 'archive', match: 'archive@example.com', action: mailbox('archive') },
      ],
      delivery: { attempts: 3, backoffMs: 1, maxBackoffMs: 2, concurrency: 1 },
    });
    pipeline = createPipeline({
      config,
      rawStore,
      store,
      outbound,
      replyFrom: 'Example Support <help@example.com>',
      now: () => new Date('2024-05-01T12:00:00.000Z'),
    });
  };

  const deliver = async (raw: Buffer, rcptTo: string[], mailFrom = 'ada@example.net') => {
    const { id } = await pipeline.accept({ envelope: { mailFrom, rcptTo }, body: raw });
    await pipeline.drain();
    return id;
  };

  const api = async (path: string) => {
    if (!server) {
      const router = createRouter({ domains: config.domains, routes: config.routes });
      const s = createServer((req, res) => {
        void handleApiRequest({ config, pipeline, router, store, rawStore, events }, req, res);
      });
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
      server = s;
    }
    const port = (server.address() as AddressInfo).port;
    return fetch(`http://127.0.0.1:${port}${path}`);
  };

  beforeEach(() => {
    store = new SqliteMessageStore(':memory:');
    rawStore = new MemoryRawStore();
    events = new SseHub();
    server = null;
    results.length = 0;
    threads.length = 0;
    attemptsSeen = [];
  });
  afterEach(async () => {
    await pipeline.close();
    events.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server!.close(() => r()));
    }
    await store.close();
  });

  it('keeps a handler reply in the outbox and serves it at /api/outbox', async () => {
    start(createOutboundMail({ mode: 'outbox', store }));
    const id = await deliver(question, ['support@example.com']);
    expect((await store.getMessage(id))?.deliveries.map((d) => d.status)).toEqual(['delivered']);
    expect(results).toEqual([
      expect.objectContaining({ skipped: false, duplicate: false, to: ['ada@example.net'] }),
    ]);
    const sent = results[0]!;
    if (sent.skipped) throw new Error('unexpected');

    const list = await (await api('/api/outbox')).json();
    expect(list).toEqual({
      messages: [
        {
          id: sent.id,
          messageId: sent.messageId,
          inReplyTo: id,
          from: 'help@example.com',
          to: ['ada@example.net'],
          subject: 'Re: Printer on fire',
          createdAt: '2024-05-01T12:00:00.000Z',
          transport: 'outbox',
          size: expect.any(Number),
        },
      ],
    });
    const rawRes = await api(`/api/outbox/${sent.id}/raw`);
    expect(rawRes.status).toBe(200);
    expect(rawRes.headers.get('content-type')).toBe('message/rfc822');
    const reply = await parseMessage(Buffer.from(await rawRes.arrayBuffer()));
    expect(reply.from).toEqual({ address: 'help@example.com', name: 'Example Support' });
    expect(reply.inReplyTo).toBe('<q1@example.net>');
    expect(reply.references).toEqual(['<q1@example.net>']);
    expect(reply.subject).toBe('Re: Printer on fire');
    expect(reply.headers.find((h) => h.key === 'auto-submitted')?.value).toBe('auto-replied');
    expect((await api('/api/outbox/ffffffffffffffffffffffffffffffff/raw')).status).toBe(404);
    expect((await store.getMessage(id))?.trace.map((t) => t.step)).toContain('reply sent');
  });

  it('sends one reply however often the handler is retried or replayed', async () => {
    start(createOutboundMail({ mode: 'outbox', store }));
    const id = await deliver(question, ['flaky@example.com']);
    expect(attemptsSeen).toEqual([1, 2]);
    expect(results.map((r) => !r.skipped && r.duplicate)).toEqual([false, true]);
    expect(await store.listOutbox()).toHaveLength(1);
    expect((await store.getMessage(id))?.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 2 });
    const raw = (await store.getOutboxEntry((await store.listOutbox())[0]!.id))!.raw.toString();
    expect(raw).toContain('attempt 1');
  });

  it('answers nobody for bounces, list mail and auto-replies, and the delivery still succeeds', async () => {
    start(createOutboundMail({ mode: 'outbox', store }));
    const bounce = await deliver(question, ['support@example.com'], '');
    const list = await deliver(
      eml([
        'From: News <news@lists.example.net>',
        'To: support@example.com',
        'Subject: Weekly digest',
        'List-Id: Weekly <weekly.lists.example.net>',
        'List-Unsubscribe: <mailto:leave@lists.example.net>',
        'Precedence: list',
      ]),
      ['support@example.com'],
      'bounces@lists.example.net',
    );
    const auto = await deliver(
      eml([
        'From: Ada Lovelace <ada@example.net>',
        'To: support@example.com',
        'Subject: Out of office: Printer on fire',
        'Auto-Submitted: auto-replied',
      ]),
      ['support@example.com'],
    );
    expect(results).toEqual([
      { skipped: true, reason: expect.stringMatching(/null sender/) },
      { skipped: true, reason: expect.stringMatching(/Precedence: list/) },
      { skipped: true, reason: expect.stringMatching(/Auto-Submitted: auto-replied/) },
    ]);
    for (const id of [bounce, list, auto]) {
      const m = await store.getMessage(id);
      expect(m?.status).toBe('processed');
      expect(m?.trace.map((t) => t.step)).toContain('reply skipped');
    }
    expect(await store.listOutbox()).toEqual([]);
  });

  it('relays the reply over SMTP to a real server', async () => {
    const sink: SmtpSink = await startSmtpSink();
    const outbound = createOutboundMail({
      mode: 'smtp',
      smtp: { host: '127.0.0.1', port: sink.port, ignoreTLS: true },
    });
    try {
      start(outbound);
      await deliver(question, ['support@example.com']);
      expect(sink.received).toHaveLength(1);
      expect(sink.received[0]).toMatchObject({ from: 'help@example.com', to: ['ada@example.net'] });
      const reply = await parseMessage(sink.received[0]!.raw);
      expect(reply.inReplyTo).toBe('<q1@example.net>');
      expect((await store.listOutbox())[0]).toMatchObject({ transport: 'smtp', to: ['ada@example.net'] });
    } finally {
      await outbound.close?.();
      await sink.close();
    }
  });

  it('fails the delivery with a clear error when no outbound mail is configured', async () => {
    start(undefined);
    const id = await deliver(question, ['support@example.com']);
    const m = await store.getMessage(id);
    expect(m?.status).toBe('failed');
    expect(m?.deliveries[0]?.error).toMatch(/ctx.reply needs outbound mail/);
  });

  it('refuses an unusable replyFrom when the pipeline is created', () => {
    expect(() =>
      createPipeline({
        config: resolveConfig({ domains: ['example.com'], routes: [] }),
        rawStore,
        store,
        replyFrom: 'not an address',
      }),
    ).toThrow(OutboundConfigError);
    start(undefined); // for afterEach
  });

  it('serves a conversation at /api/threads/:id, oldest first, and hands handlers the stored thread', async () => {
    start(createOutboundMail({ mode: 'outbox', store }));
    const first = await deliver(question, ['archive@example.com']);
    const sent = (await store.listOutbox())[0]; // none yet: archive does not reply
    expect(sent).toBeUndefined();
    // an Outlook reply naming only a message the store never saw, but carrying the conversation's
    // Thread-Index (of the first message, which had one)
    const root = Buffer.alloc(22, 7);
    const withIndex = eml([
      'From: Ada Lovelace <ada@example.net>',
      'To: archive@example.com',
      'Subject: Quote',
      'Message-ID: <o1@example.net>',
      `Thread-Index: ${root.toString('base64')}`,
    ]);
    const o1 = await deliver(withIndex, ['archive@example.com']);
    const o2 = await deliver(
      eml([
        'From: Ada Lovelace <ada@example.net>',
        'To: support@example.com',
        'Subject: RE: Quote',
        'Message-ID: <o2@example.net>',
        'In-Reply-To: <never-seen@example.com>',
        `Thread-Index: ${Buffer.concat([root, Buffer.alloc(5, 1)]).toString('base64')}`,
      ]),
      ['support@example.com'],
    );
    const thread = (await store.getMessage(o1))!.threadId!;
    expect(threads).toEqual([thread]); // ctx.message.thread.id is the stored thread
    expect((await store.getMessage(o2))?.threadId).toBe(thread);
    const res = await api(`/api/threads/${thread}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { thread: string; messages: MessageSummary[] };
    expect(body.thread).toBe(thread);
    expect(body.messages.map((m) => m.id)).toEqual([o1, o2]);
    expect(body.messages[0]).toMatchObject({ subject: 'Quote', threadId: thread, status: 'processed' });
    expect((await store.getMessage(first))?.threadId).not.toBe(thread);
    expect((await api('/api/threads/000000000000000000000000')).status).toBe(404);
  });
});
