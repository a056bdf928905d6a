import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler, mailbox } from '../../../lib/actions/builders.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import type { MailroomConfig } from '../../../lib/config/types.ts';
import { isRetryable, MailroomError } from '../../../lib/kernel/index.ts';
import {
  createPipeline,
  createProcessingPorts,
  type PipelineEvent,
  processMessage,
  recordArrival,
} from '../../../lib/pipeline/index.ts';
import type { Route } from '../../../lib/routing/types.ts';
import { MemoryRawStore } from '../../../lib/store/memory-raw-store.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

const raw = Buffer.from(
  'From: Alice <alice@example.net>\r\nTo: support@example.com\r\nSubject: Help\r\n' +
    'Message-ID: <m1@example.net>\r\n\r\nMy printer is on fire.\r\n',
);
const envelope = { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] };

function config(routes: Route[]): MailroomConfig {
  return resolveConfig({
    domains: ['example.com'],
    routes,
    delivery: { attempts: 3, backoffMs: 1, maxBackoffMs: 2, processingDelayMaxMs: 0 },
  });
}

/** A raw store that counts reads, so a test can tell bytes handed over from bytes read back. */
class CountingRawStore extends MemoryRawStore {
  reads = 0;
  override get(id: string): Promise<Buffer> {
    this.reads += 1;
    return super.get(id);
  }
}

describe('processMessage (the processing core)', () => {
  let store: SqliteMessageStore;
  beforeEach(() => {
    store = new SqliteMessageStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('records a mailbox delivery without a sync of its own, a handler delivery with one', async () => {
    const cfg = config([
      { name: 'support', match: 'support@example.com', action: mailbox('support') },
      { name: 'hook', match: 'hook@example.com', action: handler(async () => {}) },
    ]);
    const ports = createProcessingPorts({
      config: cfg,
      store,
      signal: new AbortController().signal,
      emit: () => {},
    });
    const done: Array<{ action: string; relaxed: boolean }> = [];
    const put = store.putDelivery.bind(store);
    store.putDelivery = (d, options) => {
      if (d.status === 'delivered') done.push({ action: d.action, relaxed: options?.relaxed === true });
      return put(d, options);
    };
    const both = { mailFrom: envelope.mailFrom, rcptTo: ['support@example.com', 'hook@example.com'] };
    const receivedAt = '2024-05-01T12:00:00.000Z';
    await recordArrival(ports, { id: 'm1', envelope: both, size: raw.length, receivedAt });
    const outcome = await processMessage({ id: 'm1', raw, envelope: both, auth: null, receivedAt }, ports);
    expect(outcome.status).toBe('processed');
    expect(done.sort((a, b) => a.action.localeCompare(b.action))).toEqual([
      { action: 'handler', relaxed: false },
      { action: 'mailbox', relaxed: true },
    ]);
  });

  it('processes a message from the bytes in hand, with no raw store at all', async () => {
    const events: PipelineEvent[] = [];
    const cfg = config([{ name: 'support', match: 'support@example.com', action: mailbox('support') }]);
    const ports = createProcessingPorts({
      config: cfg,
      store,
      signal: new AbortController().signal,
      emit: (e) => events.push(e),
    });
    const receivedAt = '2024-05-01T12:00:00.000Z';
    await recordArrival(ports, { id: 'm1', envelope, size: raw.length, receivedAt, via: 'a test' });
    const outcome = await processMessage({ id: 'm1', raw, envelope, auth: null, receivedAt }, ports);
    expect(outcome).toMatchObject({ id: 'm1', status: 'processed', message: { subject: 'Help' } });
    expect(outcome.deliveries.map((d) => [d.route, d.status])).toEqual([['support', 'delivered']]);
    const m = await store.getMessage('m1');
    expect(m?.status).toBe('processed');
    expect(m?.trace.map((t) => t.step)).toEqual([
      'received',
      'parsed',
      'authenticated',
      'routed',
      'delivered',
      'processed',
    ]);
    expect(m?.trace[0]?.detail).toMatch(/ \(a test\)$/);
    expect(events.map((e) => e.type)).toEqual([
      'message.received',
      'delivery.updated',
      'delivery.updated',
      'message.processed',
    ]);
  });

  it('fails a delivery at once, kept for replay, when its error says retrying cannot help', async () => {
    const attempts: number[] = [];
    const cfg = config([
      {
        name: 'support',
        match: 'support@example.com',
        action: handler((ctx) => {
          attempts.push(ctx.attempt);
          throw new MailroomError('the ticket system refuses this sender', { retryable: false });
        }, 'ticket'),
      },
    ]);
    const rawStore = new MemoryRawStore();
    const p = createPipeline({ config: cfg, rawStore, store });
    const { id } = await p.accept({ envelope, body: raw });
    await p.drain();
    expect(attempts).toEqual([1]);
    const m = await store.getMessage(id);
    expect(m?.status).toBe('failed');
    expect(m?.deliveries).toMatchObject([{ status: 'failed', attempts: 1 }]);
    expect(m?.trace.filter((t) => t.step === 'delivery attempt failed')).toEqual([]);
    expect(m?.trace.find((t) => t.step === 'delivery failed')?.detail).toContain(
      'permanent failure at attempt 1',
    );
    expect(await p.listFailed()).toEqual([id]);
    await p.close();
  });

  it('still retries a transient error with backoff', async () => {
    let calls = 0;
    const cfg = config([
      {
        name: 'support',
        match: 'support@example.com',
        action: handler(() => {
          if (++calls < 3) throw new MailroomError('timed out', { retryable: true });
        }, 'ticket'),
      },
    ]);
    const p = createPipeline({ config: cfg, rawStore: new MemoryRawStore(), store });
    const { id } = await p.accept({ envelope, body: raw });
    await p.drain();
    expect(calls).toBe(3);
    expect((await store.getMessage(id))?.status).toBe('processed');
    await p.close();
  });
});

describe('the local driver', () => {
  it('processes an accepted message with the bytes it arrived with, and reads them once on a replay', async () => {
    const store = new SqliteMessageStore(':memory:');
    const rawStore = new CountingRawStore();
    const cfg = config([{ name: 'support', match: 'support@example.com', action: mailbox('support') }]);
    const p = createPipeline({ config: cfg, rawStore, store });
    async function* streamed() {
      yield raw.subarray(0, 20);
      yield raw.subarray(20);
    }
    const first = await p.accept({ envelope, body: raw });
    const second = await p.accept({ envelope, body: streamed() });
    await p.drain();
    expect(rawStore.reads).toBe(0);
    expect((await store.getMessage(first.id))?.status).toBe('processed');
    expect((await store.getMessage(second.id))?.subject).toBe('Help');
    expect(await p.replay(first.id)).toBe('processed');
    expect(rawStore.reads).toBe(1);
    await p.close();
    await store.close();
  });
});

describe('isRetryable (kernel) on failed tries', () => {
  it('lets the first Mailroom error along the cause chain decide', () => {
    const permanent = new MailroomError('404 from the webhook', { retryable: false });
    expect(isRetryable(permanent)).toBe(false);
    expect(isRetryable(new Error('handler failed', { cause: permanent }))).toBe(false);
    const transient = new MailroomError('503', { retryable: true, cause: permanent });
    expect(isRetryable(transient)).toBe(true);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable({ $fault: 'client' })).toBe(false);
  });
});
