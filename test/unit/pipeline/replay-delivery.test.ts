import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler, mailbox } from '../../../lib/actions/builders.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import { createPipeline, type Pipeline } from '../../../lib/pipeline/create-pipeline.ts';
import type { PipelineEvent } from '../../../lib/pipeline/events.ts';
import { MemoryRawStore } from '../../../lib/store/memory-raw-store.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

const mail = Buffer.from(
  'From: Ada <ada@example.net>\r\nTo: support@example.com\r\nSubject: Hi\r\nMessage-ID: <r1@example.net>\r\n\r\nHello.\r\n',
);

describe('pipeline.replayDelivery: one delivery again', () => {
  let dir: string;
  let store: SqliteMessageStore;
  let pipeline: Pipeline;
  const runs = { ticket: 0, notify: 0 };
  let ticketBroken = true;
  let notifyBroken = true;
  const events: PipelineEvent[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-replay-one-'));
    store = new SqliteMessageStore(join(dir, 'mailroom.db'));
    runs.ticket = 0;
    runs.notify = 0;
    ticketBroken = true;
    notifyBroken = true;
    const config = resolveConfig({
      domains: ['example.com'],
      delivery: { attempts: 1, backoffMs: 1 },
      routes: [
        {
          name: 'support',
          match: 'support@example.com',
          action: [
            mailbox('support'),
            handler(() => {
              runs.ticket++;
              if (ticketBroken) throw new Error('ticket handler broken');
            }, 'ticket'),
            handler(() => {
              runs.notify++;
              if (notifyBroken) throw new Error('notify handler broken');
            }, 'notify'),
          ],
        },
      ],
    });
    pipeline = createPipeline({ config, rawStore: new MemoryRawStore(), store });
    pipeline.onEvent((e) => events.push(e));
  });

  afterEach(async () => {
    await pipeline.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A delivery's key, from the events the first run sent. */
  const keyOf = (id: string, target: string) => {
    const update = events.find(
      (e) => e.type === 'delivery.updated' && e.id === id && e.delivery.key.includes(target),
    );
    return update && 'delivery' in update ? update.delivery.key : '';
  };

  it('runs only that delivery, leaves the others as they are, and the message stays failed until all are fixed', async () => {
    const { id } = await pipeline.accept({
      envelope: { mailFrom: 'ada@example.net', rcptTo: ['support@example.com'] },
      body: mail,
    });
    await pipeline.drain();
    expect(runs).toEqual({ ticket: 1, notify: 1 });
    const ticketKey = keyOf(id, ':handler:r0.a1:');
    expect(ticketKey).not.toBe('');

    ticketBroken = false;
    expect(await pipeline.replayDelivery(id, ticketKey)).toBe('failed');
    expect(runs).toEqual({ ticket: 2, notify: 1 });
    let m = await store.getMessage(id);
    expect(m?.deliveries.map((d) => [d.action, d.status])).toEqual([
      ['mailbox', 'delivered'],
      ['handler', 'delivered'],
      ['handler', 'failed'],
    ]);

    // A delivered delivery runs again when asked for by key; the mailbox is never repeated.
    notifyBroken = false;
    const notifyKey = keyOf(id, ':handler:r0.a2:');
    expect(await pipeline.replayDelivery(id, notifyKey)).toBe('processed');
    expect(await pipeline.replayDelivery(id, ticketKey)).toBe('processed');
    expect(runs).toEqual({ ticket: 3, notify: 2 });
    m = await store.getMessage(id);
    expect(m?.status).toBe('processed');
    expect(m?.trace.filter((t) => t.step === 'replay').map((t) => t.detail)).toEqual([
      `replay of delivery ${ticketKey} requested`,
      `replay of delivery ${notifyKey} requested`,
      `replay of delivery ${ticketKey} requested`,
    ]);
    expect(await store.listMailboxEntries('support')).toHaveLength(1);
  });

  it('says so in the trace when the current config no longer plans the key, and runs nothing', async () => {
    const { id } = await pipeline.accept({
      envelope: { mailFrom: 'ada@example.net', rcptTo: ['support@example.com'] },
      body: mail,
    });
    await pipeline.drain();
    expect(await pipeline.replayDelivery(id, `${id}:handler:r9.a0:0000`)).toBe('failed');
    expect(runs).toEqual({ ticket: 1, notify: 1 });
    const m = await store.getMessage(id);
    expect(m?.trace.at(-2)?.detail).toBe(
      `delivery ${id}:handler:r9.a0:0000 is not planned by the current config: nothing run`,
    );
    expect(await pipeline.replayDelivery('no-such-message', 'x')).toBeNull();
  });

  it('times each final attempt in its trace entry', async () => {
    const { id } = await pipeline.accept({
      envelope: { mailFrom: 'ada@example.net', rcptTo: ['support@example.com'] },
      body: mail,
    });
    await pipeline.drain();
    const m = await store.getMessage(id);
    const outcomes = m?.trace.filter((t) => t.step === 'delivered' || t.step === 'delivery failed') ?? [];
    expect(outcomes).toHaveLength(3);
    for (const t of outcomes) expect(t.detail).toMatch(/ \[\d+ ms\]$/);
  });
});
