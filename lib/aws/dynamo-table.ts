import {
  type AttributeValue,
  BatchGetItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mapLimit } from './dynamo-map-limit.ts';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY } from './dynamo-table-schema.ts';
import { DynamoStoreError } from './store-errors.ts';

export type Item = Record<string, AttributeValue>;
export type Key = Record<string, AttributeValue>;

/** Keys per BatchGetItem request (DynamoDB's maximum). */
const BATCH_GET_MAX = 100;
/** Attempts at the keys a BatchGetItem left unprocessed (throttling) before giving up. */
const BATCH_GET_ATTEMPTS = 8;

/** The primary key of one item. */
export const itemKey = (pk: string, sk: string): Key => ({
  [TABLE_PARTITION_KEY]: { S: pk },
  [TABLE_SORT_KEY]: { S: sk },
});

const toItem = (value: Record<string, unknown>): Item =>
  marshall(value, { removeUndefinedValues: true, convertClassInstanceToMap: false });

const isConditionFailure = (err: unknown): boolean =>
  (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/** `Name: message` of an error, for error messages. */
export const describeError = (err: unknown): string => {
  const e = err as { name?: string; message?: string } | null;
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
};

/**
 * The requests the `DynamoMessageStore` makes, on one table: plain objects in and out
 * (marshalled with `@aws-sdk/util-dynamodb`, undefined values left out), GetItem and BatchGetItem strongly
 * consistent (queries as the caller asks: GSIs cannot be), every failure a {@link DynamoStoreError} naming what was being
 * done, and conditional writes answering false instead of failing.
 */
export class DynamoTable {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #concurrency: number;
  #closed = false;

  constructor(client: DynamoDBClient, tableName: string, concurrency: number) {
    this.#client = client;
    this.#table = tableName;
    this.#concurrency = concurrency;
  }

  /** Later requests fail with a {@link DynamoStoreError}; the client stays its owner's. */
  close(): void {
    this.#closed = true;
  }

  /** One item, or null. `projection`: read only this attribute. */
  async get<T = Record<string, unknown>>(what: string, k: Key, projection?: string): Promise<T | null> {
    const res = await this.#send(what, () =>
      this.#client.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: k,
          ConsistentRead: true,
          ...(projection
            ? { ProjectionExpression: '#p', ExpressionAttributeNames: { '#p': projection } }
            : {}),
        }),
      ),
    );
    return res.Item ? (unmarshall(res.Item) as T) : null;
  }

  /** Puts an item (replacing any with its key). */
  async put(what: string, item: Record<string, unknown>): Promise<void> {
    await this.#send(what, () =>
      this.#client.send(new PutItemCommand({ TableName: this.#table, Item: toItem(item) })),
    );
  }

  /** Puts an item only when no item has its key; resolves false (and changes nothing) otherwise. */
  async putNew(what: string, item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.#send(
        what,
        () =>
          this.#client.send(
            new PutItemCommand({
              TableName: this.#table,
              Item: toItem(item),
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
            }),
          ),
        { passConditionFailure: true },
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * Updates attributes of one item: `set` (an undefined value removes the attribute), `setIfMissing`
   * (kept when already there), `addToSet` (numbers added to a number set). `onlyIfExists` / `onlyIf` (attribute equalities) make it conditional; a
   * failed condition changes nothing and resolves false. Else resolves with the attributes the item had
   * before when `returnOld` is set (null for a new item), or null.
   */
  async update(
    what: string,
    k: Key,
    change: {
      set: Record<string, unknown>;
      setIfMissing?: Record<string, unknown>;
      addToSet?: Record<string, ReadonlySet<number>>;
      onlyIfExists?: boolean;
      onlyIf?: Record<string, unknown>;
      returnOld?: boolean;
    },
  ): Promise<Record<string, unknown> | null | false> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    const adds: string[] = [];
    let n = 0;
    const name = (attr: string): string => {
      const ref = `#a${n++}`;
      names[ref] = attr;
      return ref;
    };
    const value = (v: unknown): string => {
      const ref = `:v${n++}`;
      values[ref] = v;
      return ref;
    };
    for (const [attr, v] of Object.entries(change.set)) {
      if (v === undefined) removes.push(name(attr));
      else sets.push(`${name(attr)} = ${value(v)}`);
    }
    for (const [attr, v] of Object.entries(change.setIfMissing ?? {})) {
      if (v === undefined) continue;
      const ref = name(attr);
      sets.push(`${ref} = if_not_exists(${ref}, ${value(v)})`);
    }
    for (const [attr, v] of Object.entries(change.addToSet ?? {})) {
      if (v.size > 0) adds.push(`${name(attr)} ${value(new Set(v))}`);
    }
    const conditions: string[] = [];
    if (change.onlyIfExists) conditions.push(`attribute_exists(${name(TABLE_PARTITION_KEY)})`);
    for (const [attr, v] of Object.entries(change.onlyIf ?? {}))
      conditions.push(`${name(attr)} = ${value(v)}`);
    const expression = [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
      adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    try {
      const res = await this.#send(
        what,
        () =>
          this.#client.send(
            new UpdateItemCommand({
              TableName: this.#table,
              Key: k,
              UpdateExpression: expression,
              ExpressionAttributeNames: names,
              ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: toItem(values) } : {}),
              ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
              ...(change.returnOld ? { ReturnValues: 'ALL_OLD' as const } : {}),
            }),
          ),
        { passConditionFailure: true },
      );
      return res.Attributes ? unmarshall(res.Attributes) : null;
    } catch (err) {
      if (conditions.length > 0 && isConditionFailure(err)) return false;
      throw err;
    }
  }

  async delete(what: string, k: Key): Promise<void> {
    await this.#send(what, () =>
      this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: k })),
    );
  }

  query(what: string, input: Omit<QueryCommandInput, 'TableName'>) {
    return this.#send(what, () => this.#client.send(new QueryCommand({ TableName: this.#table, ...input })));
  }

  /** Every item of a query, page after page. */
  async queryAll(what: string, input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Key | undefined;
    do {
      const page = await this.query(what, { ...input, ExclusiveStartKey: start });
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Runs one request; any failure becomes a {@link DynamoStoreError} (condition failures pass through). */
  async #send<T>(
    what: string,
    run: () => Promise<T>,
    options: { passConditionFailure?: boolean } = {},
  ): Promise<T> {
    if (this.#closed) throw new DynamoStoreError(`the message store is closed (${what})`);
    try {
      return await run();
    } catch (cause) {
      if (options.passConditionFailure && isConditionFailure(cause)) throw cause;
      throw new DynamoStoreError(
        `DynamoDB: ${what} in table ${this.#table} failed: ${describeError(cause)}`,
        { cause },
      );
    }
  }

  /** Items by key, strongly consistent, in no particular order; missing ones are left out. */
  async batchGet(what: string, keys: readonly Key[]): Promise<Item[]> {
    const batches: Key[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) batches.push(keys.slice(i, i + BATCH_GET_MAX));
    const found = await mapLimit(batches, this.#concurrency, async (batch) => {
      const items: Item[] = [];
      let pending: Key[] = batch;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt === BATCH_GET_ATTEMPTS) {
          throw new DynamoStoreError(
            `DynamoDB: ${what}: ${pending.length} keys still unprocessed after retries`,
            { retryable: true },
          );
        }
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        const res = await this.#send(what, () =>
          this.#client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.#table]: { Keys: pending, ConsistentRead: true } },
            }),
          ),
        );
        items.push(...(res.Responses?.[this.#table] ?? []));
        pending = res.UnprocessedKeys?.[this.#table]?.Keys ?? [];
      }
      return items;
    });
    return found.flat();
  }
}
