import { unmarshall } from '@aws-sdk/util-dynamodb';
import { listingDay, shardOf } from './dynamo-index-shards.ts';
import { indexKeys, keys } from './dynamo-keys.ts';
import { mapLimit } from './dynamo-map-limit.ts';
import { type DynamoStoreContext, partitionQuery, type SortKeyBound } from './dynamo-store-context.ts';
import { type Item, itemKey, type Key } from './dynamo-table.ts';
import {
  GSI1,
  GSI2,
  type GsiSchema,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  TTL_ATTRIBUTE,
} from './dynamo-table-schema.ts';

/** Most items one Query of a listing asks for. */
const MAX_PAGE = 100;
/** Listing days read per Query of the day items. */
const DAYS_PAGE = 30;
const DAY_SECONDS = 86_400;

/**
 * The sharded message listings of the DynamoDB store (the design is in `dynamo-index-shards.ts`): the
 * gsi1/gsi2 keys a message record is listed under, the day items that say which days hold messages, and
 * the reads that merge the shards back into one order.
 */
export class MessageListingIndex {
  readonly #context: DynamoStoreContext;
  /** Days this instance noted, with the expiry it gave their day item (undefined: kept forever). */
  readonly #daysNoted = new Map<string, number | undefined>();

  constructor(context: DynamoStoreContext) {
    this.#context = context;
  }

  /** gsi1 key of a message whose gsi1 sort key is `sortKey`. */
  listingKey(id: string, sortKey: string): string {
    return indexKeys.messages(listingDay(sortKey), shardOf(id, this.#context.indexShards));
  }

  /** gsi2 key of an unfinished or failed message. */
  statusKey(status: 'unfinished' | 'failed', id: string): string {
    const shard = shardOf(id, this.#context.indexShards);
    return status === 'failed' ? indexKeys.failed(shard) : indexKeys.unfinished(shard);
  }

  /**
   * Makes sure the day of `sortKey` is listed with this store's shard count: one write per day per store
   * instance, again only when the day item's expiry would come within half a day of this message's (it
   * is given a day more than the message that wrote it).
   */
  async noteDay(sortKey: string): Promise<void> {
    const day = listingDay(sortKey);
    const expiresAt = this.#context.expiresAt();
    if (this.#daysNoted.has(day)) {
      const noted = this.#daysNoted.get(day);
      if (noted === undefined || expiresAt === undefined || expiresAt < noted - DAY_SECONDS / 2) return;
    }
    const dayExpiry = expiresAt === undefined ? undefined : expiresAt + DAY_SECONDS;
    await this.#context.table.update(`note listing day ${day}`, itemKey(keys.listingDays, day), {
      set: { type: 'listingDay', [TTL_ATTRIBUTE]: dayExpiry },
      addToSet: { shards: new Set([this.#context.indexShards]) },
    });
    this.#daysNoted.set(day, dayExpiry);
  }

  /**
   * Up to `limit` message records of gsi1, newest first: day by day (newest first), the day's shards
   * queried in parallel and merged by sort key with the pre-sharding key `MESSAGES`.
   * @param below only records whose sort key (`receivedAt#id`) is below it (the next page of a listing:
   * messages stored meanwhile sort above it, so pages neither repeat nor skip a record)
   */
  async newestFirst(limit: number, below?: string): Promise<Item[]> {
    const out: Item[] = [];
    const bound: SortKeyBound | undefined = below === undefined ? undefined : { op: '<', key: below };
    const legacy = this.#reader(GSI1, indexKeys.legacyAllMessages, Math.min(limit, MAX_PAGE), bound);
    for await (const { day, shards } of this.#days(below === undefined ? undefined : listingDay(below))) {
      const pageSize = Math.min(MAX_PAGE, limit, Math.ceil((1.5 * limit) / shards) + 1);
      const readers = Array.from({ length: shards }, (_, shard) =>
        this.#reader(GSI1, indexKeys.messages(day, shard), pageSize, bound),
      );
      await mergeNewestFirst(readers, legacy, out, limit);
      if (out.length >= limit) return out;
    }
    for (let item = await legacy.peek(); item && out.length < limit; item = await legacy.peek()) {
      out.push(item);
      legacy.drop();
    }
    return out;
  }

  /**
   * Ids of unfinished or failed messages, oldest first: every shard and the pre-sharding key, merged.
   * @param since only those received at or after it (a bound on the `<receivedAt>#<id>` sort key)
   */
  async idsByStatus(status: 'unfinished' | 'failed', since?: string): Promise<string[]> {
    const legacy = status === 'failed' ? indexKeys.legacyFailed : indexKeys.legacyUnfinished;
    const shardKey = status === 'failed' ? indexKeys.failed : indexKeys.unfinished;
    const partitions = [legacy, ...Array.from({ length: this.#context.indexShards }, (_, s) => shardKey(s))];
    const found = await mapLimit(partitions, this.#context.concurrency, (pk) =>
      this.#context.table.queryAll(`list ${pk}`, {
        IndexName: GSI2.indexName,
        KeyConditionExpression: since === undefined ? '#pk = :pk' : '#pk = :pk AND #sk >= :since',
        ExpressionAttributeNames: { '#pk': GSI2.partitionKey, '#sk': GSI2.sortKey, '#id': 'id' },
        ExpressionAttributeValues: {
          ':pk': { S: pk },
          ...(since === undefined ? {} : { ':since': { S: since } }),
        },
        ProjectionExpression: '#id, #sk',
      }),
    );
    return found
      .flat()
      .map((item) => ({ id: String(unmarshall(item).id), sk: item[GSI2.sortKey]?.S ?? '' }))
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
      .map((entry) => entry.id);
  }

  /** The listing days (up to `lastDay`), newest first, each with the most shards it was written with. */
  async *#days(lastDay?: string): AsyncGenerator<{ day: string; shards: number }> {
    let start: Key | undefined;
    do {
      const page = await this.#context.table.query('list listing days', {
        KeyConditionExpression: lastDay === undefined ? '#pk = :pk' : '#pk = :pk AND #sk <= :day',
        ExpressionAttributeNames: {
          '#pk': TABLE_PARTITION_KEY,
          ...(lastDay === undefined ? {} : { '#sk': TABLE_SORT_KEY }),
        },
        ExpressionAttributeValues: {
          ':pk': { S: keys.listingDays },
          ...(lastDay === undefined ? {} : { ':day': { S: lastDay } }),
        },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: DAYS_PAGE,
        ExclusiveStartKey: start,
      });
      for (const item of page.Items ?? []) {
        const { sk, shards } = unmarshall(item) as { sk: string; shards?: Set<number> };
        yield {
          day: sk,
          shards: shards && shards.size > 0 ? Math.max(...shards) : this.#context.indexShards,
        };
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  #reader(index: GsiSchema, pk: string, pageSize: number, bound?: SortKeyBound): PartitionReader {
    return new PartitionReader(this.#context, index, { pk, pageSize, bound, newestFirst: true });
  }
}

/** One index partition, in sort key order, read a page at a time as its consumer takes items. */
export class PartitionReader {
  readonly #context: DynamoStoreContext;
  readonly #index: GsiSchema;
  readonly #pk: string;
  readonly #pageSize: number;
  readonly #bound: SortKeyBound | undefined;
  readonly #newestFirst: boolean;
  readonly #buffer: Item[] = [];
  #start: Key | undefined;
  #done = false;

  constructor(
    context: DynamoStoreContext,
    index: GsiSchema,
    read: { pk: string; pageSize: number; bound?: SortKeyBound | undefined; newestFirst: boolean },
  ) {
    this.#context = context;
    this.#index = index;
    this.#pk = read.pk;
    this.#pageSize = read.pageSize;
    this.#bound = read.bound;
    this.#newestFirst = read.newestFirst;
  }

  /** The next item (reading a page when none is buffered); undefined when none is left. */
  async peek(): Promise<Item | undefined> {
    while (this.#buffer.length === 0 && !this.#done) {
      const page = await this.#context.table.query(`list ${this.#pk}`, {
        ...partitionQuery(this.#index, this.#pk, this.#bound),
        ScanIndexForward: !this.#newestFirst,
        Limit: this.#pageSize,
        ExclusiveStartKey: this.#start,
      });
      this.#buffer.push(...(page.Items ?? []));
      this.#start = page.LastEvaluatedKey;
      this.#done = this.#start === undefined;
    }
    return this.#buffer[0];
  }

  /** Moves past the item {@link peek} answered. */
  drop(): void {
    this.#buffer.shift();
  }

  /** The index sort key of an item this reader answered. */
  sortKey(item: Item): string {
    return item[this.#index.sortKey]?.S ?? '';
  }
}

/**
 * Moves items into `out`, newest first, until it holds `limit` or the day's `shards` are used up: the
 * item with the largest sort key among the shards' next ones and `legacy`'s each time (a k-way merge;
 * sort keys are unique, and every shard of the day sorts after the days still to come).
 */
async function mergeNewestFirst(
  shards: readonly PartitionReader[],
  legacy: PartitionReader,
  out: Item[],
  limit: number,
): Promise<void> {
  while (out.length < limit) {
    const heads = await Promise.all(shards.map((reader) => reader.peek()));
    let best: { reader: PartitionReader; item: Item; sk: string } | undefined;
    for (const [i, item] of heads.entries()) {
      const reader = shards[i];
      if (item === undefined || reader === undefined) continue;
      const sk = reader.sortKey(item);
      if (best === undefined || sk > best.sk) best = { reader, item, sk };
    }
    if (best === undefined) return;
    const legacyItem = await legacy.peek();
    if (legacyItem !== undefined && legacy.sortKey(legacyItem) > best.sk)
      best = { reader: legacy, item: legacyItem, sk: '' };
    out.push(best.item);
    best.reader.drop();
  }
}
