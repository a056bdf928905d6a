import { type DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageTable } from '../../../lib/aws/dynamo-create-table.ts';
import { DynamoMessageStore } from '../../../lib/aws/dynamo-message-store.ts';
import { GSI1, GSI2, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../../../lib/aws/dynamo-table-schema.ts';
import { type DynaliteHandle, dynamoClientFor, startDynalite } from '../../support/aws-emulators.ts';

let dynamo: DynaliteHandle;
let client: DynamoDBClient;
let tables = 0;

async function freshTable(): Promise<string> {
  tables += 1;
  const name = `mailroom-shards-${tables}`;
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

const envelope = { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] };

/** A message record as the store wrote it before its listings were sharded. */
async function putLegacyRecord(
  tableName: string,
  id: string,
  receivedAt: string,
  status: 'received' | 'failed',
): Promise<void> {
  const order = `${receivedAt}#${id}`;
  const item = {
    [TABLE_PARTITION_KEY]: `MSG#${id}`,
    [TABLE_SORT_KEY]: 'MESSAGE',
    type: 'message',
    id,
    receivedAt,
    mailFrom: envelope.mailFrom,
    rcptTo: envelope.rcptTo,
    size: 1,
    status,
    [GSI1.partitionKey]: 'MESSAGES',
    [GSI1.sortKey]: order,
    [GSI2.partitionKey]: status === 'failed' ? 'STATUS#failed' : 'STATUS#unfinished',
    [GSI2.sortKey]: order,
  };
  await client.send(new PutItemCommand({ TableName: tableName, Item: marshall(item) }));
}

const ids = async (store: DynamoMessageStore, limit?: number) =>
  (await store.listMessages({ limit })).map((m) => m.id);

describe('DynamoMessageStore sharded listings on dynalite', () => {
  it('still lists messages written before sharding, merged in order with new ones', async () => {
    const tableName = await freshTable();
    await putLegacyRecord(tableName, 'old1', '2024-01-01T10:00:00.000Z', 'received');
    await putLegacyRecord(tableName, 'old2', '2024-01-02T10:00:00.000Z', 'failed');
    await putLegacyRecord(tableName, 'old3', '2024-01-05T10:00:00.000Z', 'received');
    const store = new DynamoMessageStore({ client, tableName });
    for (const [id, at] of [
      ['new1', '2024-01-02T09:00:00.000Z'],
      ['new2', '2024-01-02T11:00:00.000Z'],
      ['new3', '2024-01-04T00:00:00.000Z'],
      ['new4', '2024-01-06T00:00:00.000Z'],
    ] as const) {
      await store.recordReceived({ id, receivedAt: at, envelope, size: 1 });
    }
    const all = ['new4', 'old3', 'new3', 'new2', 'old2', 'new1', 'old1'];
    expect(await ids(store)).toEqual(all);
    for (const limit of [1, 2, 3, 5, 6]) expect(await ids(store, limit)).toEqual(all.slice(0, limit));
    expect(await store.listUnfinished()).toEqual(['old1', 'new1', 'new2', 'new3', 'old3', 'new4']);
    expect(await store.listFailed()).toEqual(['old2']);
    // an old message moves to the sharded status keys at its next status change, listed once
    await store.setStatus('old1', 'failed');
    await store.setStatus('old2', 'processing');
    expect(await store.listFailed()).toEqual(['old1']);
    expect(await store.listUnfinished()).toEqual(['new1', 'old2', 'new2', 'new3', 'old3', 'new4']);
    expect((await store.getMessage('old3'))?.status).toBe('received');
  });

  it('lists every message when the shard count changes between writers', async () => {
    const tableName = await freshTable();
    const few = new DynamoMessageStore({ client, tableName, indexShards: 3 });
    const many = new DynamoMessageStore({ client, tableName, indexShards: 32 });
    const expected: string[] = [];
    for (let i = 0; i < 60; i++) {
      const id = `m${String(i).padStart(2, '0')}`;
      const receivedAt = new Date(Date.UTC(2024, 2, 1 + Math.floor(i / 20), i)).toISOString();
      await (i % 2 === 0 ? few : many).recordReceived({ id, receivedAt, envelope, size: 1 });
      expected.unshift(id);
    }
    const reader = new DynamoMessageStore({ client, tableName, indexShards: 1 });
    expect(await ids(reader, 1000)).toEqual(expected);
    expect(await ids(reader, 25)).toEqual(expected.slice(0, 25));
  });

  it('writes one listing day item per day, not one per message', async () => {
    const tableName = await freshTable();
    const store = new DynamoMessageStore({ client, tableName });
    for (let i = 0; i < 40; i++) {
      const receivedAt = new Date(Date.UTC(2024, 3, 1 + (i % 4), i % 24)).toISOString();
      await store.recordReceived({ id: `m${i}`, receivedAt, envelope, size: 1 });
    }
    const page = await client.send(new ScanCommand({ TableName: tableName }));
    const days = (page.Items ?? []).filter((item) => item[TABLE_PARTITION_KEY]?.S === 'LISTING#MESSAGES');
    expect(days.map((item) => item[TABLE_SORT_KEY]?.S).sort()).toEqual([
      '2024-04-01',
      '2024-04-02',
      '2024-04-03',
      '2024-04-04',
    ]);
    expect(days.map((item) => item.shards?.NS)).toEqual(days.map(() => ['16']));
    const gsi1Keys = new Set((page.Items ?? []).map((item) => item[GSI1.partitionKey]?.S).filter(Boolean));
    expect(gsi1Keys.size).toBeGreaterThan(16);
  });

  it('refuses a shard count out of range', () => {
    expect(() => new DynamoMessageStore({ client, tableName: 'x', indexShards: 0 })).toThrow(RangeError);
  });
});
