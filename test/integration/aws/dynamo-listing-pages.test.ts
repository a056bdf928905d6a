import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { DynamoMessageStore } from '../../../lib/aws/dynamo-message-store.ts';
import { DynamoStoreError } from '../../../lib/aws/store-errors.ts';
import { type MessageSummary, messageCursor } from '../../../lib/store/index.ts';
import { type DynaliteHandle, dynamoClientFor, startDynalite } from '../../support/aws-emulators.ts';
import { parsedFixture } from '../../support/message-store-contract.ts';

let dynamo: DynaliteHandle;
let client: DynamoDBClient;
let tables = 0;

async function freshStore(indexShards = 4): Promise<DynamoMessageStore> {
  tables += 1;
  const tableName = `mailroom-pages-${tables}`;
  await createMessageTable(client, tableName);
  return new DynamoMessageStore({ client, tableName, indexShards });
}

beforeAll(async () => {
  dynamo = await startDynalite();
  client = dynamoClientFor(dynamo.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

const envelope = { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] };

/** 17 messages over three days, several at the same instant (ties broken by id). */
function arrivals(): Array<{ id: string; receivedAt: string }> {
  const out: Array<{ id: string; receivedAt: string }> = [];
  for (let i = 0; i < 17; i++) {
    const day = 1 + (i % 3);
    const minute = String(Math.floor(i / 2)).padStart(2, '0');
    out.push({ id: `m${String(i).padStart(2, '0')}`, receivedAt: `2026-11-0${day}T10:${minute}:00.000Z` });
  }
  return out;
}

const newestFirst = (a: { id: string; receivedAt: string }, b: { id: string; receivedAt: string }) =>
  a.receivedAt === b.receivedAt ? (a.id < b.id ? 1 : -1) : a.receivedAt < b.receivedAt ? 1 : -1;

/** Every page of a listing, following `nextCursor`-style cursors (the last row of a full page). */
async function allPages(
  list: (before: string | undefined) => Promise<MessageSummary[]>,
  limit: number,
): Promise<string[][]> {
  const pages: string[][] = [];
  let before: string | undefined;
  for (let guard = 0; guard < 50; guard++) {
    const page = await list(before);
    pages.push(page.map((m) => m.id));
    const last = page.at(-1);
    if (page.length < limit || !last) return pages;
    before = messageCursor(last);
  }
  throw new Error('the listing never ended');
}

describe('DynamoMessageStore listing pages (before cursor) on dynalite', () => {
  it('pages every message newest first across days and shards: no duplicates, no gaps', async () => {
    const store = await freshStore();
    const all = arrivals();
    for (const m of all) await store.recordReceived({ ...m, envelope, size: 1 });
    const pages = await allPages(
      (before) => store.listMessages({ limit: 4, ...(before ? { before } : {}) }),
      4,
    );
    expect(pages.length).toBeGreaterThanOrEqual(5);
    expect(pages.flat()).toEqual([...all].sort(newestFirst).map((m) => m.id));
  });

  it('a page after new arrivals repeats nothing and skips nothing of the listing it continues', async () => {
    const store = await freshStore();
    const all = arrivals();
    for (const m of all) await store.recordReceived({ ...m, envelope, size: 1 });
    const first = await store.listMessages({ limit: 5 });
    const last = first.at(-1);
    if (!last) throw new Error('empty first page');
    for (let i = 0; i < 3; i++) {
      const id = `new${i}`;
      await store.recordReceived({ id, receivedAt: `2026-11-04T0${i}:00:00.000Z`, envelope, size: 1 });
    }
    const rest = await store.listMessages({ limit: 100, before: messageCursor(last) });
    expect([...first, ...rest].map((m) => m.id)).toEqual([...all].sort(newestFirst).map((m) => m.id));
  });

  it('pages a mailbox newest first and a thread oldest first', async () => {
    const store = await freshStore();
    const all = arrivals();
    for (const [i, m] of all.entries()) {
      await store.recordReceived({ ...m, envelope, size: 1 });
      await store.putMailboxEntry({
        mailbox: 'support',
        messageId: m.id,
        data: null,
        createdAt: m.receivedAt,
      });
      await store.saveParsed(
        m.id,
        parsedFixture({
          messageId: `<${m.id}@example.net>`,
          references: i === 0 ? [] : ['<m00@example.net>'],
          thread: { id: 't-pages' },
        }),
      );
    }
    const mailbox = await allPages(
      (before) => store.listMessages({ mailbox: 'support', limit: 6, ...(before ? { before } : {}) }),
      6,
    );
    expect(mailbox.length).toBe(3);
    expect(mailbox.flat()).toEqual([...all].sort(newestFirst).map((m) => m.id));
    const thread = await allPages(
      (before) => store.listThread('t-pages', { limit: 5, ...(before ? { before } : {}) }),
      5,
    );
    expect(thread.length).toBe(4);
    expect(thread.flat()).toEqual(
      [...all]
        .sort(newestFirst)
        .reverse()
        .map((m) => m.id),
    );
  });

  it('refuses the local store’s filters and a cursor that is not one, naming them', async () => {
    const store = await freshStore(1);
    await expect(store.listMessages({ search: 'invoice' })).rejects.toThrow(/cannot filter .* by search/);
    const err = await store.listMessages({ before: 'nonsense' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DynamoStoreError);
    expect((err as DynamoStoreError).retryable).toBe(false);
  });
});
