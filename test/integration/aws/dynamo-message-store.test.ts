import { randomBytes } from 'node:crypto';
import {
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { DynamoMessageStore } from '../../../lib/aws/dynamo-message-store.ts';
import { PARSED_MAX_STORED_BYTES } from '../../../lib/aws/dynamo-parsed-codec.ts';
import {
  GSI1,
  GSI2,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../../lib/aws/dynamo-table-schema.ts';
import { DynamoStoreError } from '../../../lib/aws/store-errors.ts';
import { type DynaliteHandle, dynamoClientFor, startDynalite } from '../../support/aws-emulators.ts';
import { describeMessageStoreContract, parsedFixture } from '../../support/message-store-contract.ts';

let dynamo: DynaliteHandle;
let client: DynamoDBClient;
let tables = 0;

/** A fresh table for each test: dynalite makes tables ACTIVE at once. */
async function freshTable(): Promise<string> {
  tables += 1;
  const name = `mailroom-test-${tables}`;
  await createMessageTable(client, name);
  return name;
}

beforeAll(async () => {
  dynamo = await startDynalite();
  client = dynamoClientFor(dynamo.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

describeMessageStoreContract('DynamoMessageStore on dynalite', async () => {
  const tableName = await freshTable();
  return {
    open: async (options) => new DynamoMessageStore({ client, tableName, ...options }),
    dispose: async () => {},
  };
});

/** Every item of a table, as plain objects. */
async function scan(tableName: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) items.push(unmarshall(item));
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  return items;
}

async function rawItem(tableName: string, pk: string, sk: string) {
  const res = await client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: { [TABLE_PARTITION_KEY]: { S: pk }, [TABLE_SORT_KEY]: { S: sk } },
    }),
  );
  return res.Item;
}

const envelope = { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] };

describe('DynamoMessageStore on dynalite', () => {
  let tableName: string;
  let store: DynamoMessageStore;

  beforeEach(async () => {
    tableName = await freshTable();
    store = new DynamoMessageStore({ client, tableName });
  });
  afterEach(async () => {
    await store.close();
  });

  it('creates the table with the shared schema', async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' },
    ]);
    const indexes = (Table?.GlobalSecondaryIndexes ?? [])
      .map((g) => ({ name: g.IndexName, keys: g.KeySchema, projection: g.Projection?.ProjectionType }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(indexes).toEqual(
      [GSI1, GSI2].map((g) => ({
        name: g.indexName,
        keys: [
          { AttributeName: g.partitionKey, KeyType: 'HASH' },
          { AttributeName: g.sortKey, KeyType: 'RANGE' },
        ],
        projection: 'ALL',
      })),
    );
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('refuses to create a table that exists', async () => {
    const err = await createMessageTable(client, tableName).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DynamoStoreError);
    expect((err as DynamoStoreError).cause).toMatchObject({ name: 'ResourceInUseException' });
  });

  it('keeps a mid-sized parse as gzip and a small one as text', async () => {
    await store.recordReceived({ id: 'small', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    await store.recordReceived({ id: 'mid', receivedAt: '2024-01-01T00:00:01.000Z', envelope, size: 1 });
    await store.saveParsed('small', parsedFixture());
    const mid = parsedFixture({ messageId: '<mid@example.net>', html: `<p>${'ab '.repeat(100_000)}</p>` });
    await store.saveParsed('mid', mid);
    const smallItem = await rawItem(tableName, 'MSG#small', 'PARSED');
    expect(smallItem?.parsedJson?.S).toBeDefined();
    const midItem = await rawItem(tableName, 'MSG#mid', 'PARSED');
    expect(midItem?.parsedGzip?.B).toBeInstanceOf(Uint8Array);
    expect(midItem?.parsedGzip?.B?.length).toBeLessThan(PARSED_MAX_STORED_BYTES);
    expect((await store.getMessage('mid'))?.parsed).toEqual({ ...mid, thread: { id: 't1' } });
  });

  it('cuts a parse too big for one item down and says so in problems', async () => {
    await store.recordReceived({ id: 'big', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    // random text does not compress: megabytes of it cannot fit 400 KB
    const noise = (bytes: number) => randomBytes(bytes).toString('base64');
    const big = parsedFixture({
      subject: 'Big one',
      text: noise(1_500_000),
      html: `<pre>${noise(1_500_000)}</pre>`,
      problems: ['an earlier problem'],
    });
    const { threadId } = await store.saveParsed('big', big);
    const m = await store.getMessage('big');
    expect(m?.subject).toBe('Big one');
    expect(m?.threadId).toBe(threadId);
    const parsed = m?.parsed;
    expect(parsed?.html).toBeNull();
    expect(parsed?.text?.length).toBeLessThan(big.text!.length);
    expect(big.text!.startsWith(parsed!.text!.slice(0, -1))).toBe(true);
    expect(parsed?.problems[0]).toBe('an earlier problem');
    expect(parsed?.problems.at(-1)).toMatch(/^stored record truncated to fit a DynamoDB item .*html dropped/);
    const item = await rawItem(tableName, 'MSG#big', 'PARSED');
    expect(item?.parsedGzip?.B?.length).toBeLessThanOrEqual(PARSED_MAX_STORED_BYTES);
  });

  it('sets expiresAt on every item when given retentionDays, and on none without', async () => {
    const fill = async (s: DynamoMessageStore) => {
      await s.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
      await s.saveParsed('a', parsedFixture({ thread: { id: 'ta' } }));
      await s.addTrace('a', 'received', 'x');
      await s.putDelivery({
        key: 'a:1',
        messageId: 'a',
        recipient: 'support@example.com',
        recipients: ['support@example.com'],
        route: 'support',
        action: 'mailbox',
        params: {},
        status: 'delivered',
        attempts: 1,
        updatedAt: '2024-01-01T00:00:00.000Z',
      });
      await s.putMailboxEntry({
        mailbox: 'support',
        messageId: 'a',
        data: null,
        createdAt: '2024-01-01T00:00:00.000Z',
      });
      await s.putOutboxEntry({
        id: 'o1',
        messageId: '<o1@example.com>',
        inReplyTo: 'a',
        envelope: { from: 'support@example.com', to: ['alice@example.net'] },
        subject: 'Re: Hello',
        createdAt: '2024-01-01T00:00:00.000Z',
        transport: 'outbox',
        raw: Buffer.from('x'),
      });
    };
    await fill(store);
    const plain = await scan(tableName);
    expect(plain.length).toBeGreaterThanOrEqual(9);
    expect(plain.filter((i) => TTL_ATTRIBUTE in i)).toEqual([]);

    const now = new Date('2024-06-01T00:00:00.000Z');
    const retained = await freshTable();
    const kept = new DynamoMessageStore({ client, tableName: retained, retentionDays: 30, now: () => now });
    await fill(kept);
    // later writes to a message (status, a re-parse, a delivery update) do not extend it
    now.setTime(now.getTime() + 86_400_000);
    await kept.setStatus('a', 'processed');
    await kept.saveParsed('a', parsedFixture({ thread: { id: 'ta' } }));
    await kept.putDelivery({
      key: 'a:1',
      messageId: 'a',
      recipient: 'support@example.com',
      recipients: ['support@example.com'],
      route: 'support',
      action: 'mailbox',
      params: {},
      status: 'delivered',
      attempts: 2,
      updatedAt: '2024-01-02T00:00:00.000Z',
    });
    const expected = Date.parse('2024-07-01T00:00:00.000Z') / 1000;
    const items = await scan(retained);
    expect(items.length).toBe(plain.length);
    // the listing day item outlives the day's messages by a day, so no message drops out of the listings
    const dayItem = (i: Record<string, unknown>) => i[TABLE_PARTITION_KEY] === 'LISTING#MESSAGES';
    expect(items.filter(dayItem)).toHaveLength(1);
    expect(items.map((i) => i[TTL_ATTRIBUTE])).toEqual(
      items.map((i) => (dayItem(i) ? expected + 86_400 : expected)),
    );
    await kept.close();
  });

  it('keeps the largest subject and sender the parser lets through on the record', async () => {
    await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    const subject = 'S'.repeat(64 * 1024);
    const from = { address: `${'a'.repeat(64 * 1024)}@example.net`, name: 'N'.repeat(64 * 1024) };
    await store.saveParsed('a', parsedFixture({ subject, from, messageId: null }));
    const [summary] = await store.listMessages();
    expect(summary?.subject).toBe(subject);
    expect(summary?.from).toEqual(from);
  });

  it('keeps processed messages out of the status index (sparse)', async () => {
    await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    const unfinished = (await rawItem(tableName, 'MSG#a', 'MESSAGE'))?.[GSI2.partitionKey]?.S;
    expect(unfinished).toMatch(/^STATUS#unfinished#\d\d$/);
    await store.setStatus('a', 'processed');
    expect((await rawItem(tableName, 'MSG#a', 'MESSAGE'))?.[GSI2.partitionKey]).toBeUndefined();
    await store.setStatus('a', 'failed');
    expect((await rawItem(tableName, 'MSG#a', 'MESSAGE'))?.[GSI2.partitionKey]?.S).toBe(
      unfinished?.replace('unfinished', 'failed'),
    );
  });

  it('leaves no bytes of a losing concurrent outbox write behind', async () => {
    const entry = {
      id: 'race',
      messageId: '<race@example.com>',
      inReplyTo: null,
      envelope: { from: 'support@example.com', to: ['alice@example.net'] },
      subject: null,
      createdAt: '2024-01-01T00:00:00.000Z',
      transport: 'outbox',
    };
    const results = await Promise.all([
      store.putOutboxEntry({ ...entry, raw: Buffer.alloc(650_000, 1) }),
      store.putOutboxEntry({ ...entry, raw: Buffer.alloc(650_000, 2) }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const items = (await scan(tableName)).filter((i) => i[TABLE_PARTITION_KEY] === 'OUTBOX#race');
    expect(items.map((i) => i[TABLE_SORT_KEY])).toHaveLength(1 + 3); // the head and its three chunks
    expect((await store.getOutboxEntry('race'))?.raw.equals(Buffer.alloc(650_000, results[0] ? 1 : 2))).toBe(
      true,
    );
  });

  it('keeps keys within DynamoDB limits for hostile values', async () => {
    const mailbox = `box-${'m'.repeat(3000)}`;
    const deliveryKey = `a:${'k'.repeat(3000)}`;
    await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    expect(
      await store.putMailboxEntry({
        mailbox,
        messageId: 'a',
        data: null,
        createdAt: '2024-01-01T00:00:00.000Z',
      }),
    ).toBe(true);
    expect((await store.listMessages({ mailbox })).map((m) => m.id)).toEqual(['a']);
    expect((await store.listMailboxEntries(mailbox))[0]?.mailbox).toBe(mailbox);
    await store.putDelivery({
      key: deliveryKey,
      messageId: 'a',
      recipient: 'x@example.com',
      recipients: ['x@example.com'],
      route: 'r',
      action: 'drop',
      params: {},
      status: 'dropped',
      attempts: 0,
      updatedAt: '2024-01-01T00:00:00.000Z',
    });
    expect((await store.getDelivery(deliveryKey))?.key).toBe(deliveryKey);
    // a value shaped like a hashed key is hashed too, so it cannot stand for another value
    const lookalike = `~sha256~${'0'.repeat(64)}`;
    expect(
      await store.putMailboxEntry({ mailbox: lookalike, messageId: 'a', data: null, createdAt: 'x' }),
    ).toBe(true);
    expect(await store.listMailboxEntries(lookalike)).toHaveLength(1);
  });

  it('fails with a DynamoStoreError naming the cause when the table is missing', async () => {
    const lost = new DynamoMessageStore({ client, tableName: 'no-such-table' });
    const err = await lost.getMessage('a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DynamoStoreError);
    expect((err as Error).name).toBe('DynamoStoreError');
    expect((err as Error).message).toMatch(/no-such-table.*ResourceNotFoundException/);
    expect((err as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    // a missing table stays missing: trying again cannot help
    expect((err as DynamoStoreError).retryable).toBe(false);
    await expect(
      lost.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 }),
    ).rejects.toBeInstanceOf(DynamoStoreError);
  });

  it('refuses work once closed, leaving the client usable', async () => {
    await store.close();
    await expect(store.hasMessage('a')).rejects.toThrow(/closed/);
    await expect(store.listMessages()).rejects.toBeInstanceOf(DynamoStoreError);
    await expect(store.listMessages()).rejects.toMatchObject({ retryable: false });
    const again = new DynamoMessageStore({ client, tableName });
    expect(await again.hasMessage('a')).toBe(false);
  });

  it('rejects a retention that is not a positive number', () => {
    expect(() => new DynamoMessageStore({ client, tableName, retentionDays: 0 })).toThrow(RangeError);
    expect(() => new DynamoMessageStore({ client, tableName, retentionDays: Number.NaN })).toThrow(
      RangeError,
    );
  });
});
