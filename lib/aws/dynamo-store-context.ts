import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type MessageSummary, messageSummary } from '../store/index.ts';
import { indexShardCount } from './dynamo-index-shards.ts';
import { keys, OrderKeys } from './dynamo-keys.ts';
import { mapLimit } from './dynamo-map-limit.ts';
import type { DeliveryItem, MessageItem } from './dynamo-store-items.ts';
import { DynamoTable, itemKey, type Key } from './dynamo-table.ts';
import { GSI1, type GsiSchema, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from './dynamo-table-schema.ts';

export interface DynamoMessageStoreOptions {
  /**
   * The DynamoDB client, injected so the caller owns its region, credentials, endpoint and lifetime
   * (`close()` does not destroy it).
   */
  client: DynamoDBClient;
  /** The table, created with the schema of `dynamo-table-schema.ts`. */
  tableName: string;
  /**
   * Days after which DynamoDB's time to live may delete a record (counted from the item's first write).
   * @default undefined (records are kept)
   */
  retentionDays?: number;
  /** Clock for trace entries and `expiresAt`. @default () => new Date() */
  now?: () => Date;
  /** Most requests one call has in flight at once (deliveries of a listing, thread lookups). @default 16 */
  concurrency?: number;
  /**
   * Partition keys each message listing is spread over (gsi1 per day, gsi2 by status), so writes are not
   * capped by one key (about 200 messages/s each); see `dynamo-index-shards.ts`. Raise it freely; lower it
   * only while no message is unfinished or failed. 1 to 128.
   * @default 16
   */
  indexShards?: number;
}

/** Records read per page of a listing (and per BatchGetItem). */
const LIST_PAGE = 100;

/** Orders items by their `order` attribute (a time-ordered unique string, `OrderKeys`). */
export const byOrder = (a: { order: string }, b: { order: string }): number =>
  a.order < b.order ? -1 : a.order > b.order ? 1 : 0;

/** Only index entries whose sort key is below (`<`) or above (`>`) `key`. */
export interface SortKeyBound {
  op: '<' | '>';
  key: string;
}

/** The KeyConditionExpression of one index partition, with its bound when there is one. */
export function partitionQuery(index: GsiSchema, pk: string, bound: SortKeyBound | undefined) {
  return {
    IndexName: index.indexName,
    KeyConditionExpression: bound === undefined ? '#pk = :pk' : `#pk = :pk AND #sk ${bound.op} :bound`,
    ExpressionAttributeNames: {
      '#pk': index.partitionKey,
      ...(bound === undefined ? {} : { '#sk': index.sortKey }),
    },
    ExpressionAttributeValues: {
      ':pk': { S: pk },
      ...(bound === undefined ? {} : { ':bound': { S: bound.key } }),
    },
  };
}

/**
 * What the aggregates of the DynamoDB store share: the table, the clock, the retention, the order keys,
 * and the reads of message records and their deliveries that several of them list messages with.
 */
export class DynamoStoreContext {
  readonly table: DynamoTable;
  readonly concurrency: number;
  readonly indexShards: number;
  readonly now: () => Date;
  readonly order = new OrderKeys();
  readonly #retentionSeconds: number | undefined;

  constructor(options: DynamoMessageStoreOptions) {
    const days = options.retentionDays;
    if (days !== undefined && !(Number.isFinite(days) && days > 0)) {
      throw new RangeError(`retentionDays must be a positive number, got ${days}`);
    }
    this.#retentionSeconds = days === undefined ? undefined : Math.ceil(days * 86_400);
    this.now = options.now ?? (() => new Date());
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
    this.indexShards = indexShardCount(options.indexShards);
    this.table = new DynamoTable(options.client, options.tableName, this.concurrency);
  }

  /** The `expiresAt` of an item written now (epoch seconds), or undefined when records are kept. */
  expiresAt(): number | undefined {
    if (this.#retentionSeconds === undefined) return undefined;
    return Math.floor(this.now().getTime() / 1000) + this.#retentionSeconds;
  }

  messageItem(id: string): Promise<MessageItem | null> {
    return this.table.get<MessageItem>(`read message ${id}`, itemKey(keys.message(id), keys.messageRecord));
  }

  /** Message records by id (strongly consistent); ids without a record are absent from the map. */
  async messageItems(ids: readonly string[]): Promise<Map<string, MessageItem>> {
    const unique = [...new Set(ids)];
    const items = await this.table.batchGet(
      'read message records',
      unique.map((id) => itemKey(keys.message(id), keys.messageRecord)),
    );
    const out = new Map<string, MessageItem>();
    for (const item of items) {
      const m = unmarshall(item) as MessageItem;
      out.set(m.id, m);
    }
    return out;
  }

  /** The deliveries of one message, in creation order. */
  async deliveryItems(messageId: string): Promise<DeliveryItem[]> {
    const items = await this.table.queryAll(`list deliveries of ${messageId}`, {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#sk': TABLE_SORT_KEY },
      ExpressionAttributeValues: {
        ':pk': { S: keys.message(messageId) },
        ':prefix': { S: keys.deliveryPrefix },
      },
      ConsistentRead: true,
    });
    return items.map((item) => unmarshall(item) as DeliveryItem).sort(byOrder);
  }

  /** Summaries of these records, in their order, each with its deliveries. */
  async summaries(records: MessageItem[]): Promise<MessageSummary[]> {
    const deliveries = await mapLimit(records, this.concurrency, (m) => this.deliveryItems(m.id));
    return records.map((m, i) => messageSummary(m, deliveries[i] ?? []));
  }

  /**
   * Summaries of the messages a gsi1 partition lists (by `messageId` or `id`), in its order, read from
   * their records; those without a record, or that `accept` refuses, are skipped.
   * @param bound only entries whose sort key (`receivedAt#id`) is beyond it: the next page of a listing
   */
  async listVia(
    what: string,
    gsi1pk: string,
    oldestFirst: boolean,
    limit: number,
    accept: (m: MessageItem) => boolean,
    bound?: SortKeyBound,
  ): Promise<MessageSummary[]> {
    const records: MessageItem[] = [];
    let start: Key | undefined;
    do {
      const page = await this.table.query(what, {
        ...partitionQuery(GSI1, gsi1pk, bound),
        ScanIndexForward: oldestFirst,
        Limit: Math.min(LIST_PAGE, limit - records.length),
        ExclusiveStartKey: start,
      });
      const ids = (page.Items ?? []).map((item) => {
        const v = unmarshall(item);
        return String(v.messageId ?? v.id);
      });
      const found = await this.messageItems(ids);
      for (const id of ids) {
        const m = found.get(id);
        if (m && accept(m) && records.length < limit) records.push(m);
      }
      start = page.LastEvaluatedKey;
    } while (start && records.length < limit);
    return this.summaries(records);
  }
}
