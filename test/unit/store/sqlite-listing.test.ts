import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryRecord, MessageQuery, MessageSummary } from '../../../lib/store/index.ts';
import { MessageQueryError, messageCursor } from '../../../lib/store/index.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { searchQuery } from '../../../lib/store/sqlite-search.ts';
import { parsedFixture } from '../../support/message-store-contract.ts';

const BASE = Date.parse('2024-03-01T00:00:00.000Z');

/** The i-th message: one second after the (i-1)-th. */
function at(i: number): string {
  return new Date(BASE + i * 1000).toISOString();
}

async function receive(store: SqliteMessageStore, id: string, i: number, rcptTo = ['support@example.com']) {
  await store.recordReceived({
    id,
    receivedAt: at(i),
    envelope: { mailFrom: 'sender@example.net', rcptTo },
    size: 10,
  });
}

function delivery(messageId: string, over: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    key: `${messageId}:${over.route ?? 'support'}:${over.action ?? 'mailbox'}`,
    messageId,
    recipient: 'support@example.com',
    recipients: ['support@example.com'],
    route: 'support',
    action: 'mailbox',
    params: {},
    status: 'delivered',
    attempts: 1,
    updatedAt: '2024-03-01T00:00:00.000Z',
    ...over,
  };
}

const ids = (list: MessageSummary[]) => list.map((m) => m.id);

describe('SqliteMessageStore listing: filters, search, paging', () => {
  let store: SqliteMessageStore;
  beforeEach(() => {
    store = new SqliteMessageStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  /** Pages through the whole listing with `limit`, collecting each page's ids. */
  async function pages(query: MessageQuery, limit: number): Promise<string[][]> {
    const out: string[][] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listMessages({ ...query, limit, ...(before ? { before } : {}) });
      if (page.length > 0) out.push(ids(page));
      if (page.length < limit) return out;
      before = messageCursor(page[page.length - 1]!);
    }
  }

  it('pages through 250 messages with limit 100: 3 pages, no duplicates, no gaps, stable while new ones arrive', async () => {
    for (let i = 0; i < 250; i++) await receive(store, `m${String(i).padStart(3, '0')}`, i);
    const first = await store.listMessages({ limit: 100 });
    // new mail arrives while the reader is on page one: it goes above, the next pages do not shift
    for (let i = 0; i < 30; i++) await receive(store, `n${String(i).padStart(3, '0')}`, 1000 + i);
    const second = await store.listMessages({ limit: 100, before: messageCursor(first.at(-1)!) });
    const third = await store.listMessages({ limit: 100, before: messageCursor(second.at(-1)!) });
    const fourth = await store.listMessages({ limit: 100, before: messageCursor(third.at(-1)!) });
    expect([first.length, second.length, third.length, fourth.length]).toEqual([100, 100, 50, 0]);
    const seen = [...first, ...second, ...third].map((m) => m.id);
    const expected = Array.from({ length: 250 }, (_, i) => `m${String(249 - i).padStart(3, '0')}`);
    expect(seen).toEqual(expected);
  });

  it('pages in order through messages received in the same millisecond (ties broken by id)', async () => {
    for (let i = 0; i < 7; i++) await receive(store, `t${i}`, 0);
    expect((await pages({}, 3)).flat()).toEqual(['t6', 't5', 't4', 't3', 't2', 't1', 't0']);
  });

  it('refuses a cursor it did not give and an unknown status, naming the field', async () => {
    await expect(store.listMessages({ before: 'not a cursor' })).rejects.toThrow(MessageQueryError);
    await expect(store.listMessages({ before: 'not a cursor' })).rejects.toThrow(/before/);
    await expect(store.listMessages({ status: 'lost' as 'failed' })).rejects.toThrow(/status/);
  });

  it('caps a page at 500', async () => {
    for (let i = 0; i < 510; i++) await receive(store, `c${String(i).padStart(3, '0')}`, i);
    expect(await store.listMessages({ limit: 10_000 })).toHaveLength(500);
  });

  it('filters by status, route, failed delivery and mailbox, alone and together, with paging', async () => {
    for (let i = 0; i < 12; i++) {
      const id = `f${String(i).padStart(2, '0')}`;
      await receive(store, id, i);
      await store.setStatus(id, i % 3 === 0 ? 'failed' : 'processed');
      await store.putDelivery(delivery(id, { route: i % 2 === 0 ? 'billing' : 'support' }));
      if (i % 4 === 0)
        await store.putDelivery(delivery(id, { action: 'webhook', status: 'failed', error: 'x' }));
      if (i % 2 === 1) {
        await store.putMailboxEntry({ mailbox: 'inbox', messageId: id, data: null, createdAt: at(100 - i) });
      }
    }
    expect(ids(await store.listMessages({ status: 'failed' }))).toEqual(['f09', 'f06', 'f03', 'f00']);
    expect(ids(await store.listMessages({ route: 'billing' }))).toEqual([
      'f10',
      'f08',
      'f06',
      'f04',
      'f02',
      'f00',
    ]);
    // f00, f04, f08 have a failed webhook delivery (route support besides billing)
    expect(ids(await store.listMessages({ deliveryFailed: true }))).toEqual(['f08', 'f04', 'f00']);
    expect(ids(await store.listMessages({ mailbox: 'inbox' }))).toEqual([
      'f11',
      'f09',
      'f07',
      'f05',
      'f03',
      'f01',
    ]);
    expect(ids(await store.listMessages({ route: 'billing', status: 'failed' }))).toEqual(['f06', 'f00']);
    expect(ids(await store.listMessages({ mailbox: 'inbox', status: 'failed' }))).toEqual(['f09', 'f03']);
    expect(ids(await store.listMessages({ route: 'support', deliveryFailed: true }))).toEqual([
      'f08',
      'f04',
      'f00',
    ]);
    expect(await pages({ route: 'billing' }, 4)).toEqual([
      ['f10', 'f08', 'f06', 'f04'],
      ['f02', 'f00'],
    ]);
    expect(await pages({ mailbox: 'inbox' }, 2)).toEqual([
      ['f11', 'f09'],
      ['f07', 'f05'],
      ['f03', 'f01'],
    ]);
    expect(await pages({ deliveryFailed: true }, 2)).toEqual([['f08', 'f04'], ['f00']]);
    // a delivery that recovers takes the message out of the failed listing
    await store.putDelivery(delivery('f08', { action: 'webhook', status: 'delivered' }));
    expect(ids(await store.listMessages({ deliveryFailed: true }))).toEqual(['f04', 'f00']);
    expect(await store.listMessages({ route: 'nobody' })).toEqual([]);
  });

  it('search narrows a list of 50 messages to the one match, by subject, body, from, to and envelope', async () => {
    for (let i = 0; i < 50; i++) {
      const id = `s${String(i).padStart(2, '0')}`;
      await receive(store, id, i, [`team${i}@example.com`]);
      await store.saveParsed(
        id,
        parsedFixture({
          messageId: `<${id}@example.net>`,
          subject: i === 17 ? 'Invoice #4471 for March' : `Weekly report ${i}`,
          text: i === 23 ? 'Please find the quarterly café figures attached.' : 'Nothing new this week.',
          from: { address: `person${i}@example.net`, name: i === 31 ? 'Grace Hopper' : `Person ${i}` },
          to: [{ address: i === 42 ? 'ledger@accounts.example' : 'list@example.com', name: '' }],
          thread: { id: `th${i}` },
        }),
      );
    }
    const search = async (q: string) => ids(await store.listMessages({ search: q }));
    expect(await search('invoice')).toEqual(['s17']);
    expect(await search('INVO')).toEqual(['s17']); // prefix while typing, any case
    expect(await search('march invoice')).toEqual(['s17']); // words ANDed, any order
    expect(await search('invoice april')).toEqual([]);
    expect(await search('cafe quarterly')).toEqual(['s23']); // diacritics folded
    expect(await search('grace hop')).toEqual(['s31']);
    expect(await search('ledger@accounts.example')).toEqual(['s42']);
    expect(await search('team7@example.com')).toEqual(['s07']); // envelope recipient
    expect(await search('report')).toHaveLength(49);
    // search combines with paging and the other filters
    expect((await pages({ search: 'weekly' }, 20)).map((p) => p.length)).toEqual([20, 20, 9]);
    await store.setStatus('s17', 'failed');
    expect(await search('invoice')).toEqual(['s17']);
    expect(ids(await store.listMessages({ search: 'invoice', status: 'processed' }))).toEqual([]);
  });

  it('finds a message by its envelope before it is parsed, and by its parse after a reparse replaced it', async () => {
    await receive(store, 'e1', 0, ['orders@example.com']);
    expect(ids(await store.listMessages({ search: 'orders' }))).toEqual(['e1']);
    await store.saveParsed('e1', parsedFixture({ subject: 'First subject' }));
    await store.saveParsed('e1', parsedFixture({ subject: 'Second subject' }));
    expect(ids(await store.listMessages({ search: 'second' }))).toEqual(['e1']);
    expect(await store.listMessages({ search: 'first' })).toEqual([]);
  });

  it('indexes only the first 256 KiB of a text body', async () => {
    await receive(store, 'big', 0);
    const text = `${'lorem '.repeat(1_000)}needleatthestart ${'ipsum '.repeat(50_000)}needleattheend`;
    await store.saveParsed('big', parsedFixture({ text }));
    expect(ids(await store.listMessages({ search: 'needleatthestart' }))).toEqual(['big']);
    expect(await store.listMessages({ search: 'needleattheend' })).toEqual([]);
  });

  it('never fails on hostile search input', async () => {
    await receive(store, 'h1', 0);
    await store.saveParsed(
      'h1',
      parsedFixture({ subject: 'He said "hello" NEAR the door - 日本語 テキスト' }),
    );
    const hostile = [
      '"',
      '""',
      '"hello',
      'hello"',
      '*',
      'hel*',
      '* *',
      'NEAR(',
      'NEAR(hello door)',
      'hello NOT door',
      'hello OR nothing',
      '-',
      '-hello',
      'subject:hello',
      '^hello',
      '(hello',
      'hello)',
      '{subject}: hello',
      '\u0000hello',
      '\uD800',
      '日本語',
      '😀 hello',
      'a'.repeat(10_000),
      'hello '.repeat(2_000),
      '" OR 1=1 --',
      "'; DROP TABLE messages; --",
    ];
    for (const q of hostile) {
      const found = await store.listMessages({ search: q });
      expect(Array.isArray(found)).toBe(true);
    }
    // operators are words, not syntax
    expect(ids(await store.listMessages({ search: 'NEAR(' }))).toEqual(['h1']);
    expect(ids(await store.listMessages({ search: '"hello' }))).toEqual(['h1']);
    expect(ids(await store.listMessages({ search: '日本語' }))).toEqual(['h1']);
    expect(ids(await store.listMessages({ search: '\u0000hello' }))).toEqual(['h1']);
    expect(await store.listMessages({ search: 'hello NOT door' })).toEqual([]); // "not" is a word it lacks
    // nothing searchable typed: the listing is not narrowed
    expect(ids(await store.listMessages({ search: '* - "' }))).toEqual(['h1']);
    expect(await store.hasMessage('h1')).toBe(true);
  });

  it('turns typed words into quoted FTS5 terms ANDed, the last a prefix', () => {
    expect(searchQuery('invoice march')).toBe('"invoice" AND "march"*');
    expect(searchQuery('say "hi"')).toBe('"say" AND """hi"""*');
    expect(searchQuery('  ')).toBeNull();
    expect(searchQuery('* - ()')).toBeNull();
    expect(searchQuery('w '.repeat(1000))?.split(' AND ')).toHaveLength(32);
  });
});
