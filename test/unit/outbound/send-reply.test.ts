import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../lib/actions/child-logger.ts';
import { parseMessage } from '../../../lib/message/parse-message.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import { OutboxMail } from '../../../lib/outbound/outbox-mail.ts';
import { replyKey } from '../../../lib/outbound/reply-id.ts';
import { createReplyFunction, type ReplyOriginal } from '../../../lib/outbound/send-reply.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

const raw = Buffer.from(
  [
    'From: Ada Lovelace <ada@example.net>',
    'To: support@example.com',
    'Subject: Printer on fire',
    'Message-ID: <m1@example.net>',
    'References: <root@example.net>',
    '',
    'Help!',
    '',
  ].join('\r\n'),
);

describe('createReplyFunction with the outbox', () => {
  let store: SqliteMessageStore;
  let message: ParsedMessage;
  const now = () => new Date('2024-05-01T12:00:00.000Z');

  const original = (over: Partial<ReplyOriginal> = {}): ReplyOriginal => ({
    id: 'msg1',
    envelope: { mailFrom: 'ada@example.net', rcptTo: ['support@example.com'] },
    message,
    idempotencyKey: 'msg1:r0.a0:handler',
    ...over,
  });
  const reply = (over: Partial<ReplyOriginal> = {}) =>
    createReplyFunction(original(over), {
      outbound: new OutboxMail(store, { now }),
      from: { address: 'support@example.com', name: 'Support' },
      store,
      logger: silentLogger,
      now,
    });

  beforeEach(async () => {
    store = new SqliteMessageStore(':memory:');
    message = await parseMessage(raw);
    await store.recordReceived({
      id: 'msg1',
      receivedAt: now().toISOString(),
      envelope: original().envelope,
      size: raw.length,
    });
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps the reply in the outbox with an id derived from the delivery key', async () => {
    const result = await reply()({ text: 'On it.' });
    const id = replyKey('msg1:r0.a0:handler', 1);
    expect(result).toEqual({
      skipped: false,
      id,
      messageId: `<${id}@example.com>`,
      to: ['ada@example.net'],
      duplicate: false,
    });
    const entry = await store.getOutboxEntry(id);
    expect(entry).toMatchObject({
      id,
      messageId: `<${id}@example.com>`,
      inReplyTo: 'msg1',
      envelope: { from: 'support@example.com', to: ['ada@example.net'] },
      subject: 'Re: Printer on fire',
      createdAt: '2024-05-01T12:00:00.000Z',
      transport: 'outbox',
    });
    const sent = await parseMessage(entry!.raw);
    expect(sent.inReplyTo).toBe('<m1@example.net>');
    expect(sent.references).toEqual(['<root@example.net>', '<m1@example.net>']);
    expect((await store.getMessage('msg1'))?.trace).toEqual([
      expect.objectContaining({
        step: 'reply sent',
        detail: expect.stringContaining('to ada@example.net via outbox'),
      }),
    ]);
  });

  it('does not send again when the handler runs again (retry or replay)', async () => {
    const first = await reply()({ text: 'On it.' });
    const again = reply(); // a new attempt of the same delivery
    const second = await again({ text: 'On it (attempt 2).' });
    expect(second).toEqual({ ...first, duplicate: true });
    const another = await again({ text: 'And a second reply.' }); // the 2nd reply of that delivery is new
    expect(another).toMatchObject({ skipped: false, duplicate: false });
    expect((await store.listOutbox()).map((e) => e.id).sort()).toEqual(
      [replyKey('msg1:r0.a0:handler', 1), replyKey('msg1:r0.a0:handler', 2)].sort(),
    );
    const firstRaw = (await store.getOutboxEntry(replyKey('msg1:r0.a0:handler', 1)))!.raw.toString();
    expect(firstRaw).toContain('On it.');
    expect(firstRaw).not.toContain('attempt 2');
    // another delivery (route, action) of the same message replies on its own
    const other = await reply({ idempotencyKey: 'msg1:r1.a0:handler' })({ text: 'Billing here.' });
    expect(other).toMatchObject({ duplicate: false, id: replyKey('msg1:r1.a0:handler', 1) });
  });

  it('skips, records nothing and traces why for mail that must not be answered', async () => {
    const bulk = await parseMessage(
      Buffer.from(`Precedence: bulk\r\nList-Id: <news.example.net>\r\n${raw.toString()}`),
    );
    expect(await reply({ message: bulk })({ text: 'x' })).toEqual({
      skipped: true,
      reason: 'the original is bulk or list mail (Precedence: bulk)',
    });
    expect(await reply({ envelope: { mailFrom: '', rcptTo: [] } })({ text: 'x', automatic: false })).toEqual({
      skipped: true,
      reason: expect.stringMatching(/null sender/),
    });
    expect(await store.listOutbox()).toEqual([]);
    expect((await store.getMessage('msg1'))?.trace.map((t) => t.step)).toEqual([
      'reply skipped',
      'reply skipped',
    ]);
  });
});
