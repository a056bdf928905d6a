import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import { createProcessingPorts, processMessage, recordArrival } from '../../../lib/pipeline/index.ts';
import { RunWrites } from '../../../lib/pipeline/run-writes.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

const raw = Buffer.from(
  'From: Alice <alice@example.net>\r\nTo: support@example.com\r\nSubject: Help\r\n' +
    'Message-ID: <m1@example.net>\r\n\r\nMy printer is on fire.\r\n',
);
const envelope = {
  mailFrom: 'alice@example.net',
  rcptTo: ['support@example.com'],
  remoteAddress: '192.0.2.1',
};
const receivedAt = '2024-05-01T12:00:00.000Z';

describe('RunWrites', () => {
  it('with a store that orders its writes, holds them until issued, then reports a failure when settled', async () => {
    const writes = new RunWrites({ ordersWrites: true });
    const started: string[] = [];
    await writes.add(async () => {
      started.push('a');
    });
    await writes.add(async () => {
      started.push('b');
      throw new Error('disk full');
    });
    expect(started).toEqual([]);
    writes.issue();
    expect(started).toEqual(['a', 'b']);
    await writes.add(async () => {
      started.push('c');
    });
    expect(started).toEqual(['a', 'b', 'c']); // once issued, a write goes at once
    await expect(writes.settled()).rejects.toThrow('disk full');
    await expect(writes.settled()).resolves.toBeUndefined();
  });

  it('waits for each write with a store that does not order its writes', async () => {
    const writes = new RunWrites({ ordersWrites: false });
    await expect(writes.add(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    let done = false;
    await writes.add(async () => {
      done = true;
    });
    expect(done).toBe(true);
  });
});

describe('processMessage with a store that orders its writes', () => {
  let store: SqliteMessageStore;
  let turn = 0;
  let ticker: NodeJS.Immediate | undefined;
  const tick = () => {
    turn += 1;
    ticker = setImmediate(tick);
  };
  beforeEach(async () => {
    store = new SqliteMessageStore(':memory:');
    turn = 0;
    tick();
  });
  afterEach(async () => {
    clearImmediate(ticker);
    await store.close();
  });

  function ports() {
    return createProcessingPorts({
      config: resolveConfig({
        domains: ['example.com'],
        routes: [{ name: 'support', match: 'support@example.com', action: mailbox('support') }],
        delivery: { attempts: 3, backoffMs: 1, maxBackoffMs: 2, processingDelayMaxMs: 0 },
      }),
      store,
      signal: new AbortController().signal,
      emit: () => {},
    });
  }

  /** Records in which turn of the event loop each of these store methods is called. */
  function spyTurns(
    names: Array<
      | 'setStatus'
      | 'saveParsed'
      | 'saveAuth'
      | 'addTrace'
      | 'insertDelivery'
      | 'putMailboxEntry'
      | 'putDelivery'
    >,
  ) {
    const calls: Array<{ name: string; turn: number }> = [];
    const target = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const name of names) {
      const original = target[name]?.bind(store);
      if (!original) throw new Error(`no ${name}`);
      target[name] = (...args: unknown[]) => {
        calls.push({ name, turn });
        return original(...args);
      };
    }
    return calls;
  }

  it('hands every write up to the plan to the store in one turn, and the mailbox outcome with the final status', async () => {
    const p = ports();
    await recordArrival(p, { id: 'm1', envelope, size: raw.length, receivedAt });
    const calls = spyTurns([
      'setStatus',
      'saveParsed',
      'saveAuth',
      'addTrace',
      'insertDelivery',
      'putMailboxEntry',
      'putDelivery',
    ]);
    const outcome = await processMessage({ id: 'm1', raw, envelope, auth: null, receivedAt }, p);
    expect(outcome.status).toBe('processed');
    const entry = calls.findIndex((c) => c.name === 'putMailboxEntry');
    const beforeEntry = calls.slice(0, entry);
    expect(beforeEntry.map((c) => c.name)).toEqual(
      expect.arrayContaining(['setStatus', 'saveParsed', 'saveAuth', 'addTrace', 'insertDelivery']),
    );
    expect(new Set(beforeEntry.map((c) => c.turn)).size).toBe(1);
    const afterEntry = calls.slice(entry + 1);
    expect(afterEntry.map((c) => c.name)).toEqual(['putDelivery', 'addTrace', 'setStatus', 'addTrace']);
    expect(new Set(afterEntry.map((c) => c.turn)).size).toBe(1);
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
  });

  it('fails the message when a write it did not wait for failed, before any delivery runs', async () => {
    const p = ports();
    await recordArrival(p, { id: 'm1', envelope, size: raw.length, receivedAt });
    store.saveParsed = () => Promise.reject(new Error('disk full'));
    const outcome = await processMessage({ id: 'm1', raw, envelope, auth: null, receivedAt }, p);
    expect(outcome).toMatchObject({
      status: 'failed',
      error: 'processing error: disk full',
      retryable: true,
    });
    expect(await store.listMailboxEntries('support')).toEqual([]);
    expect((await store.getMessage('m1'))?.status).toBe('failed');
  });

  it('fails the message, to be run again, when the mailbox outcome cannot be recorded; the re-run stores it once', async () => {
    const p = ports();
    await recordArrival(p, { id: 'm1', envelope, size: raw.length, receivedAt });
    const put = store.putDelivery.bind(store);
    store.putDelivery = (d, options) =>
      d.status === 'delivered' ? Promise.reject(new Error('disk full')) : put(d, options);
    const first = await processMessage({ id: 'm1', raw, envelope, auth: null, receivedAt }, p);
    expect(first).toMatchObject({ status: 'failed', retryable: true });
    store.putDelivery = put;
    const again = await processMessage({ id: 'm1', raw, envelope, auth: null, receivedAt }, p);
    expect(again.status).toBe('processed');
    expect(again.deliveries.map((d) => [d.status, d.attempts])).toEqual([['delivered', 1]]); // the first attempt's record was lost with its outcome
    expect((await store.listMailboxEntries('support')).map((e) => e.messageId)).toEqual(['m1']);
  });
});
