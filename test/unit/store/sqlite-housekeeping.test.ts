import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../../lib/store/index.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { parsedFixture } from '../../support/message-store-contract.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function attachment(sha256: string) {
  return {
    filename: 'f.pdf',
    contentType: 'application/pdf',
    size: 3,
    sha256,
    contentId: null,
    disposition: 'attachment',
    url: null,
    stored: true,
    related: false,
  };
}

function delivery(messageId: string, over: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    key: `${messageId}:support:mailbox`,
    messageId,
    recipient: 'support@example.com',
    recipients: ['support@example.com'],
    route: 'support',
    action: 'mailbox',
    mailbox: 'support',
    params: {},
    status: 'delivered',
    attempts: 1,
    updatedAt: '2024-03-01T00:00:00.000Z',
    ...over,
  };
}

describe('SqliteMessageStore housekeeping', () => {
  let store: SqliteMessageStore;
  beforeEach(() => {
    store = new SqliteMessageStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  async function message(
    id: string,
    day: number,
    status: 'received' | 'processing' | 'processed' | 'failed',
  ) {
    await store.recordReceived({
      id,
      receivedAt: `2024-03-${String(day).padStart(2, '0')}T00:00:00.000Z`,
      envelope: { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] },
      size: 5,
    });
    await store.setStatus(id, status);
  }

  it('deletes every record of a message, and only its', async () => {
    for (const id of ['gone', 'kept']) {
      await message(id, id === 'gone' ? 1 : 2, 'processed');
      await store.saveParsed(
        id,
        parsedFixture({
          messageId: `<${id}@x>`,
          subject: `Quarterly ${id}`,
          attachments: [attachment(id === 'gone' ? A : B)],
        }),
      );
      await store.saveAuth(id, null);
      await store.addTrace(id, 'parsed', 'ok');
      await store.putDelivery(delivery(id, { key: `${id}:d` }));
      await store.putMailboxEntry({
        mailbox: 'support',
        messageId: id,
        data: { n: 1 },
        createdAt: '2024-03-03T00:00:00.000Z',
      });
      await store.putOutboxEntry({
        id: `reply-${id}`,
        messageId: `<reply-${id}@x>`,
        inReplyTo: id,
        envelope: { from: 'support@example.com', to: ['a@example.net'] },
        subject: 'Re',
        createdAt: '2024-03-03T00:00:00.000Z',
        transport: 'outbox',
        raw: Buffer.from('x'),
      });
    }
    expect(await store.deleteMessage('gone')).toBe(true);
    expect(await store.deleteMessage('gone')).toBe(false);
    expect(await store.deleteMessage('never')).toBe(false);
    expect(await store.getMessage('gone')).toBeNull();
    expect(await store.hasMessage('gone')).toBe(false);
    expect(await store.getDelivery('gone:d')).toBeNull();
    expect(await store.listDeliveries('gone')).toEqual([]);
    expect((await store.listMailboxEntries('support')).map((e) => e.messageId)).toEqual(['kept']);
    expect(await store.getOutboxEntry('reply-gone')).toBeNull();
    expect(await store.listThread('t1').then((l) => l.map((m) => m.id))).toEqual(['kept']);
    expect((await store.listMessages({ search: 'quarterly' })).map((m) => m.id)).toEqual(['kept']);
    expect((await store.listMessages({ route: 'support' })).map((m) => m.id)).toEqual(['kept']);
    expect(await store.referencedAttachments()).toEqual(new Set([B]));
    expect((await store.getMessage('kept'))?.trace).toHaveLength(1);
    expect(await store.getOutboxEntry('reply-kept')).not.toBeNull();
  });

  it('keeps the read state, false until set, and counts mailboxes with their unread messages', async () => {
    for (const [id, day] of [
      ['m1', 1],
      ['m2', 2],
      ['m3', 3],
    ] as const) {
      await message(id, day, 'processed');
      await store.putMailboxEntry({
        mailbox: id === 'm3' ? 'billing' : 'support',
        messageId: id,
        data: null,
        createdAt: '2024-03-04T00:00:00.000Z',
      });
    }
    expect((await store.listMessages()).map((m) => m.read)).toEqual([false, false, false]);
    await store.setRead('m2', true);
    await store.setRead('unknown', true);
    expect((await store.listMessages()).map((m) => [m.id, m.read])).toEqual([
      ['m3', false],
      ['m2', true],
      ['m1', false],
    ]);
    expect(await store.listMailboxes()).toEqual([
      { name: 'billing', count: 1, unread: 1 },
      { name: 'support', count: 2, unread: 1 },
    ]);
    await store.setRead('m2', false);
    expect((await store.listMailboxes())[1]).toEqual({ name: 'support', count: 2, unread: 2 });
    expect(await store.listThread('nothing')).toEqual([]);
  });

  it('lists expired messages by age and by count, oldest first, never one still being processed', async () => {
    await message('d1', 1, 'processed');
    await message('d2', 2, 'failed');
    await message('d3', 3, 'processing');
    await message('d4', 4, 'received');
    await message('d5', 5, 'processed');
    await message('d6', 6, 'processed');
    expect(await store.listExpired({ receivedBefore: '2024-03-05T00:00:00.000Z' })).toEqual(['d1', 'd2']);
    expect(await store.listExpired({ keepNewest: 2 })).toEqual(['d1', 'd2']);
    expect(await store.listExpired({ keepNewest: 1 })).toEqual(['d1', 'd2', 'd5']);
    expect(await store.listExpired({ keepNewest: 0 })).toEqual(['d1', 'd2', 'd5', 'd6']);
    expect(await store.listExpired({ keepNewest: 6 })).toEqual([]);
    expect(await store.listExpired({ keepNewest: 5, receivedBefore: '2024-03-02T00:00:00.000Z' })).toEqual([
      'd1',
    ]);
    expect(await store.listExpired({ keepNewest: 4, receivedBefore: '2024-03-02T00:00:00.000Z' })).toEqual([
      'd1',
      'd2',
    ]);
    expect(await store.listExpired({})).toEqual([]);
  });

  it('knows which attachments stored parses reference, as parses change', async () => {
    await message('x', 1, 'processed');
    await message('y', 2, 'processed');
    await store.saveParsed(
      'x',
      parsedFixture({ attachments: [attachment(A), attachment(B), attachment(A)] }),
    );
    await store.saveParsed(
      'y',
      parsedFixture({ messageId: '<y@x>', attachments: [attachment(B.toUpperCase())] }),
    );
    // a parse for a message without a record references nothing
    await store.saveParsed('ghost', parsedFixture({ attachments: [attachment(C)] }));
    expect(await store.referencedAttachments()).toEqual(new Set([A, B]));
    await store.saveParsed('x', parsedFixture({ attachments: [] }));
    expect(await store.referencedAttachments()).toEqual(new Set([B]));
  });
});
