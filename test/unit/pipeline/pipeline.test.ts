import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { drop, handler, mailbox, reject, webhook } from '../../../lib/actions/builders.ts';
import type { HandlerContext, HandlerFn } from '../../../lib/actions/types.ts';
import { verifyWebhook } from '../../../lib/actions/webhook-signature.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import type { MailroomConfig } from '../../../lib/config/types.ts';
import { createPipeline, type Pipeline, type PipelineDeps } from '../../../lib/pipeline/create-pipeline.ts';
import type { PipelineEvent } from '../../../lib/pipeline/events.ts';
import type { Route } from '../../../lib/routing/types.ts';
import type { RawStore } from '../../../lib/store/index.ts';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { MemoryRawStore } from '../../../lib/store/memory-raw-store.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

function rfc822(opts: { subject?: string; to?: string; from?: string; body?: string } = {}): Buffer {
  return Buffer.from(
    [
      `From: ${opts.from ?? 'Alice <alice@example.net>'}`,
      `To: ${opts.to ?? 'support@example.com'}`,
      `Subject: ${opts.subject ?? 'Help please'}`,
      'Message-ID: <m1@example.net>',
      'Date: Wed, 01 May 2024 12:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      opts.body ?? 'My printer is on fire.',
      '',
    ].join('\r\n'),
  );
}

function config(routes: Route[], delivery: MailroomConfig['delivery'] | object = {}): MailroomConfig {
  return resolveConfig({
    domains: ['example.com'],
    routes,
    delivery: { attempts: 3, backoffMs: 1, maxBackoffMs: 4, concurrency: 2, ...delivery },
  });
}

/**
 * A route for every @example.com recipient whose handler counts the runs going on at once (`active`, and
 * the most at once, `peak`) while it awaits `wait()`.
 */
function countingRoute(
  name: string,
  wait: () => Promise<unknown>,
): { route: Route; counts: { active: number; peak: number } } {
  const counts = { active: 0, peak: 0 };
  const route: Route = {
    name: 'all',
    match: '@example.com',
    action: handler(async () => {
      counts.active++;
      counts.peak = Math.max(counts.peak, counts.active);
      await wait();
      counts.active--;
    }, name),
  };
  return { route, counts };
}

/** Accepts `n` messages at once, to `<prefix><i>@example.com`. */
function acceptMany(p: Pipeline, n: number, prefix: string): Promise<Array<{ id: string }>> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      p.accept({ envelope: { mailFrom: '', rcptTo: [`${prefix}${i}@example.com`] }, body: rfc822() }),
    ),
  );
}

describe('pipeline', () => {
  let dir: string;
  let store: SqliteMessageStore;
  let rawStore: RawStore;
  const pipelines: Pipeline[] = [];

  const make = (cfg: MailroomConfig, over: Partial<PipelineDeps> = {}) => {
    const p = createPipeline({ config: cfg, rawStore, store, ...over });
    pipelines.push(p);
    return p;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-pipeline-'));
    store = new SqliteMessageStore(join(dir, 'mailroom.db'));
    rawStore = new LocalRawStore(dir);
  });
  afterEach(async () => {
    for (const p of pipelines.splice(0)) await p.close();
    await store.close();
    if (rawStore instanceof LocalRawStore) await rawStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts, stores prefix + body unchanged, and delivers support@ and support+x@ to one mailbox entry', async () => {
    const events: PipelineEvent[] = [];
    const p = make(config([{ name: 'support', match: 'support@example.com', action: mailbox('support') }]));
    p.onEvent((e) => events.push(e));
    const prefix = Buffer.from('Received: from client by mailroom.local; Wed, 1 May 2024 12:00:00 +0000\r\n');
    const raw = rfc822();
    async function* body() {
      yield raw.subarray(0, 10);
      yield raw.subarray(10);
    }
    const envelope = {
      mailFrom: 'alice@example.net',
      rcptTo: ['support@example.com', 'support+x@example.com'],
    };
    const { id } = await p.accept({ envelope, prefix, body: body() });
    expect(await store.hasMessage(id)).toBe(true);
    expect(Buffer.compare(await rawStore.get(id), Buffer.concat([prefix, raw]))).toBe(0);
    await p.drain();

    const m = await store.getMessage(id);
    expect(m).toMatchObject({
      id,
      status: 'processed',
      subject: 'Help please',
      from: { address: 'alice@example.net', name: 'Alice' },
      envelope,
      size: prefix.length + raw.length,
    });
    expect(m?.deliveries).toEqual([
      {
        recipient: 'support@example.com',
        route: 'support',
        action: 'mailbox',
        mailbox: 'support',
        params: {},
        status: 'delivered',
        attempts: 1,
        key: expect.stringMatching(/:mailbox:support$/),
        updatedAt: expect.any(String),
      },
    ]);
    expect(m?.parsed?.text).toContain('printer');
    const entries = await store.listMailboxEntries('support');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.data).toMatchObject({ recipients: ['support@example.com', 'support+x@example.com'] });
    expect((await store.listMessages({ mailbox: 'support' })).map((s) => s.id)).toEqual([id]);

    const steps = m?.trace.map((t) => t.step);
    expect(steps).toEqual([
      'received',
      'parsed',
      'authenticated',
      'routed',
      'routed',
      'delivered',
      'processed',
    ]);
    expect(m?.trace[2]?.detail).toBe('spf=none dkim=none dmarc=none arc=none (not received over SMTP)');
    expect(m?.auth?.spf.comment).toMatch(/not received over SMTP/);
    expect(m?.trace[3]?.detail).toBe('support@example.com → support');
    expect(events.map((e) => e.type)).toEqual([
      'message.received',
      'delivery.updated',
      'delivery.updated',
      'message.processed',
    ]);
    expect(events[2]).toMatchObject({
      type: 'delivery.updated',
      id,
      delivery: { status: 'delivered', mailbox: 'support' },
    });
  });

  it('keeps an unrouted recipient as an unrouted delivery', async () => {
    const p = make(config([{ name: 'support', match: 'support@example.com', action: mailbox('support') }]));
    const { id } = await p.accept({
      envelope: { mailFrom: 'a@example.net', rcptTo: ['support@example.com', 'nobody@example.com'] },
      body: rfc822(),
    });
    await p.drain();
    const m = await store.getMessage(id);
    expect(m?.status).toBe('processed');
    expect(m?.deliveries.map((d) => [d.recipient, d.action, d.status, d.error])).toEqual([
      ['support@example.com', 'mailbox', 'delivered', undefined],
      ['nobody@example.com', 'none', 'unrouted', '550 5.1.1 <nobody@example.com>: no such user here'],
    ]);
    expect(m?.trace.find((t) => t.step === 'unrouted')?.detail).toMatch(/^nobody@example.com: 550 5\.1\.1/);
  });

  it('records reject and drop actions at processing time', async () => {
    const p = make(
      config([
        { name: 'blocked', match: 'blocked@example.com', action: reject(550, '5.7.1 Not accepted here') },
        { name: 'void', match: 'void@example.com', action: drop() },
      ]),
    );
    const { id } = await p.accept({
      envelope: { mailFrom: 'a@example.net', rcptTo: ['blocked@example.com', 'void@example.com'] },
      body: rfc822(),
    });
    await p.drain();
    const m = await store.getMessage(id);
    expect(m?.status).toBe('processed');
    expect(m?.deliveries.map((d) => [d.action, d.status, d.error])).toEqual([
      ['reject', 'rejected', '550 5.7.1 Not accepted here'],
      ['drop', 'dropped', undefined],
    ]);
  });

  it('retries a throwing handler with backoff, fails it, and a fixed handler delivers exactly once on replay', async () => {
    const attemptsSeen: number[] = [];
    const broken: HandlerFn = (ctx) => {
      attemptsSeen.push(ctx.attempt);
      throw new Error('database down');
    };
    const routes = (fn: HandlerFn): Route[] => [
      { name: 'support', match: 'support@example.com', action: [mailbox('support'), handler(fn, 'ticket')] },
    ];
    const first = make(config(routes(broken)));
    const events: PipelineEvent[] = [];
    first.onEvent((e) => events.push(e));
    const { id } = await first.accept({
      envelope: { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] },
      body: rfc822(),
    });
    await first.drain();
    expect(attemptsSeen).toEqual([1, 2, 3]);
    let m = await store.getMessage(id);
    expect(m?.status).toBe('failed');
    expect(m?.deliveries.map((d) => [d.action, d.status, d.attempts, d.error])).toEqual([
      ['mailbox', 'delivered', 1, undefined],
      ['handler', 'failed', 3, 'handler ticket failed: database down'],
    ]);
    expect(m?.trace.filter((t) => t.step === 'delivery attempt failed').map((t) => t.detail)).toEqual([
      'attempt 1, handler ticket for support@example.com: handler ticket failed: database down',
      'attempt 2, handler ticket for support@example.com: handler ticket failed: database down',
    ]);
    expect(m?.trace.at(-1)).toMatchObject({ step: 'failed', detail: '1 of 2 deliveries failed' });
    expect(events.at(-1)).toMatchObject({ type: 'message.failed', id });
    expect(await first.listFailed()).toEqual([id]);
    await first.close();

    // The code is fixed and the app restarted: replay delivers the handler once, the mailbox is not repeated.
    const calls: HandlerContext[] = [];
    const second = make(config(routes((ctx) => void calls.push(ctx))));
    expect(await second.replay(id)).toBe('processed');
    expect(await second.replay(id)).toBe('processed');
    expect(await second.replayFailed()).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ id, attempt: 4, route: 'support', recipients: ['support@example.com'] });
    expect(calls[0]?.idempotencyKey).toMatch(new RegExp(`^${id}:handler:r0\\.a1:`));
    m = await store.getMessage(id);
    expect(m?.status).toBe('processed');
    expect(m?.deliveries.map((d) => [d.action, d.status, d.attempts, d.error])).toEqual([
      ['mailbox', 'delivered', 1, undefined],
      ['handler', 'delivered', 4, undefined],
    ]);
    expect(await store.listMailboxEntries('support')).toHaveLength(1);
    expect(m?.trace.filter((t) => t.step === 'replay')).toHaveLength(2);
    expect(await second.replay('no-such-id')).toBeNull();
  });

  it('re-processing the same id never repeats a delivered effect', async () => {
    let calls = 0;
    const p = make(
      config([
        {
          name: 'support',
          match: 'support@example.com',
          action: [
            mailbox('support'),
            handler(async (ctx) => {
              calls++;
              await ctx.mailboxes.put('tickets', { n: calls });
            }, 'ticket'),
          ],
        },
      ]),
    );
    const { id } = await p.accept({
      envelope: { mailFrom: 'a@example.net', rcptTo: ['support@example.com', 'SUPPORT@example.com'] },
      body: rfc822(),
    });
    await p.drain();
    await Promise.all([p.process(id), p.process(id)]);
    expect(await p.process(id)).toBe('processed');
    expect(calls).toBe(1);
    expect(await store.listMailboxEntries('support')).toHaveLength(1);
    expect(await store.listMailboxEntries('tickets')).toHaveLength(1);
    const m = await store.getMessage(id);
    expect(m?.deliveries).toHaveLength(2);
    expect(m?.trace.filter((t) => t.step === 'skipped').length).toBeGreaterThanOrEqual(4);
    expect(await p.process('unknown')).toBeNull();
  });

  it('groups handler recipients with equal params into one call and signs webhooks', async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.statusCode = received.length === 1 ? 500 : 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
      const calls: string[][] = [];
      const p = make(
        config([
          {
            name: 'reply',
            match: 'reply+{token}@example.com',
            action: [handler((ctx) => void calls.push(ctx.recipients), 'reply'), webhook(url, { secret })],
          },
        ]),
      );
      const { id } = await p.accept({
        envelope: {
          mailFrom: 'a@example.net',
          rcptTo: ['reply+aaa@example.com', 'reply+bbb@example.com', 'Reply+aaa@Example.com'],
        },
        body: rfc822(),
      });
      await p.drain();
      expect(calls).toEqual([['reply+aaa@example.com'], ['reply+bbb@example.com']]);
      const m = await store.getMessage(id);
      expect(m?.status).toBe('processed');
      const hooks = m?.deliveries.filter((d) => d.action === 'webhook');
      expect(hooks?.map((d) => [d.params, d.status])).toEqual([
        [{ token: 'aaa' }, 'delivered'],
        [{ token: 'bbb' }, 'delivered'],
      ]);
      // One failed with 500 and was retried with the same webhook-id.
      expect(received).toHaveLength(3);
      const ids = received.map((r) => r.headers['webhook-id']);
      expect(new Set(ids).size).toBe(2);
      for (const r of received) {
        verifyWebhook({ secret, headers: r.headers, body: r.body });
        const payload = JSON.parse(r.body);
        expect(payload.id).toBe(r.headers['webhook-id']);
        expect(payload.data.id).toBe(id);
        expect(payload.data.message.subject).toBe('Help please');
      }
      expect(hooks?.reduce((n, d) => n + d.attempts, 0)).toBe(3);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('recovers a message recorded but not processed before a crash, exactly once', async () => {
    let calls = 0;
    const cfg = config([
      {
        name: 'support',
        match: 'support@example.com',
        action: [mailbox('support'), handler(() => void calls++, 'h')],
      },
    ]);
    // Simulated crash: envelope + raw stored, "received" recorded, 250 sent, then the process died.
    const id = newMessageId();
    const envelope = { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] };
    const { size } = await rawStore.put(id, rfc822(), { envelope });
    await store.recordReceived({ id, receivedAt: new Date().toISOString(), envelope, size });

    const p = make(cfg);
    expect(await p.recover()).toEqual({ resumed: [id], orphans: [] });
    await p.drain();
    expect(await p.recover()).toEqual({ resumed: [], orphans: [] });
    await p.drain();
    expect(calls).toBe(1);
    expect((await store.getMessage(id))?.status).toBe('processed');
    expect(await store.listMailboxEntries('support')).toHaveLength(1);
  });

  it('recovers a stored message that never got a record, with its envelope (Bcc included)', async () => {
    const cfg = config([
      { name: 'support', match: 'support@example.com', action: mailbox('support') },
      { name: 'sales', match: 'sales@example.com', action: mailbox('sales') },
    ]);
    // Crash between the durable raw write and the record: only the envelope and the bytes exist.
    const id = newMessageId();
    await rawStore.put(id, rfc822({ to: 'support@example.com' }), {
      envelope: { mailFrom: 'a@example.net', rcptTo: ['support@example.com', 'sales@example.com'] },
    });

    const p = make(cfg);
    expect(await p.recover()).toEqual({ resumed: [], orphans: [id] });
    await p.drain();
    const m = await store.getMessage(id);
    expect(m?.status).toBe('processed');
    expect(m?.envelope).toEqual({
      mailFrom: 'a@example.net',
      rcptTo: ['support@example.com', 'sales@example.com'],
    });
    expect(m?.deliveries.map((d) => d.mailbox)).toEqual(['support', 'sales']);
    expect(m?.trace[0]).toMatchObject({ step: 'recovered' });
    expect(await p.recover()).toEqual({ resumed: [], orphans: [] });
  });

  it('recovers a message whose envelope was lost from its headers', async () => {
    rawStore = new MemoryRawStore();
    const p = make(config([{ name: 'support', match: 'support@example.com', action: mailbox('support') }]));
    await rawStore.put('lost1', rfc822({ to: 'Support <support@example.com>, someone@elsewhere.org' }));
    expect(await p.recover()).toEqual({ resumed: [], orphans: ['lost1'] });
    await p.drain();
    const m = await store.getMessage('lost1');
    expect(m?.envelope.rcptTo).toEqual(['support@example.com']);
    expect(m?.status).toBe('processed');
    expect(m?.trace[0]?.detail).toMatch(/envelope lost/);
  });

  it('fails a message whose raw bytes are gone, and replays it later', async () => {
    const memory = new MemoryRawStore();
    rawStore = memory;
    const p = make(config([{ name: 'support', match: 'support@example.com', action: mailbox('support') }]));
    const { id } = await p.accept({
      envelope: { mailFrom: '', rcptTo: ['support@example.com'] },
      body: rfc822(),
    });
    await p.drain();
    const raw = await memory.get(id);
    memory.delete(id);
    expect(await p.replay(id)).toBe('failed');
    expect((await store.getMessage(id))?.trace.at(-1)?.detail).toMatch(/^raw message unreadable/);
    await memory.put(id, raw);
    expect(await p.replay(id)).toBe('processed');
  });

  it('close() stops retry waits and leaves the message for recovery', async () => {
    rawStore = new MemoryRawStore();
    let calls = 0;
    const routes: Route[] = [
      {
        name: 'support',
        match: 'support@example.com',
        action: handler(() => {
          calls++;
          if (calls === 1) throw new Error('flaky');
        }, 'h'),
      },
    ];
    const p = make(config(routes, { backoffMs: 60_000, maxBackoffMs: 60_000 }));
    const { id } = await p.accept({
      envelope: { mailFrom: '', rcptTo: ['support@example.com'] },
      body: rfc822(),
    });
    while (calls === 0) await new Promise((r) => setTimeout(r, 2));
    const started = Date.now();
    await p.close();
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(
      p.accept({ envelope: { mailFrom: '', rcptTo: ['support@example.com'] }, body: rfc822() }),
    ).rejects.toThrow(/closed/);
    expect((await store.getMessage(id))?.status).toBe('processing');
    expect((await store.getMessage(id))?.deliveries[0]).toMatchObject({ status: 'pending', attempts: 1 });

    const next = make(config(routes));
    expect(await next.recover()).toEqual({ resumed: [id], orphans: [] });
    await next.drain();
    expect(calls).toBe(2);
    expect((await store.getMessage(id))?.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('processes many messages with bounded concurrency', async () => {
    rawStore = new MemoryRawStore();
    const { route, counts } = countingRoute('slow', () => new Promise((r) => setTimeout(r, 5)));
    const p = make(config([route], { concurrency: 3 }));
    const ids = await acceptMany(p, 12, 'u');
    await p.drain();
    expect(counts.peak).toBeLessThanOrEqual(3);
    const listed = await store.listMessages();
    expect(listed).toHaveLength(12);
    expect(listed.every((m) => m.status === 'processed')).toBe(true);
    expect(new Set(ids.map((r) => r.id)).size).toBe(12);
  });

  it('left null, concurrency is 4 on its own thread and 16 in a processor', async () => {
    rawStore = new MemoryRawStore();
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    // in a processor: runs held until released; none ends, so the count stops at the limit
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let running = 0;
    const elsewhere = make(
      config([{ name: 'all', match: '@example.com', action: drop() }], { concurrency: null }),
      {
        processor: () => ({
          async run() {
            running++;
            await held;
            running--;
            return { status: 'processed' as const };
          },
          close: async () => {},
        }),
      },
    );
    await acceptMany(elsewhere, 30, 'u');
    const drained = elsewhere.drain();
    await vi.waitFor(() => expect(running).toBe(16));
    await turns(20);
    expect(running).toBe(16);
    release();
    await drained;

    // on its own thread: a handler that waits until released
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { route, counts } = countingRoute('held', () => gate);
    const here = make(config([route], { concurrency: null }));
    await acceptMany(here, 12, 'v');
    const done = here.drain();
    await vi.waitFor(() => expect(counts.active).toBe(4));
    await new Promise((r) => setTimeout(r, 100));
    open();
    await done;
    expect(counts.peak).toBe(4);
  });

  it('answers accept() with an error when the raw store fails, leaving no record', async () => {
    const failing: RawStore = {
      put: async () => {
        throw new Error('disk full');
      },
      get: async () => Buffer.alloc(0),
      list: async () => [],
      getEnvelope: async () => null,
    };
    rawStore = failing;
    const p = make(config([]));
    await expect(
      p.accept({ envelope: { mailFrom: '', rcptTo: ['x@example.com'] }, body: rfc822() }),
    ).rejects.toThrow('disk full');
    expect(await store.listMessages()).toEqual([]);
  });
});
