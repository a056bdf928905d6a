import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';
import {
  type MessageDetail,
  type MessageQuery,
  type MessageRecords,
  type MessageStatus,
  type MessageSummary,
  messageDetail,
  messageSummary,
  parseMessageCursor,
  type TraceEntry,
} from '../store/index.ts';
import { indexKeys, keys, timeKey } from './dynamo-keys.ts';
import { MessageListingIndex } from './dynamo-message-listing.ts';
import { decodeParsed } from './dynamo-parsed-codec.ts';
import { byOrder, type DynamoStoreContext } from './dynamo-store-context.ts';
import type { DeliveryItem, MessageItem, ParsedItem } from './dynamo-store-items.ts';
import { itemKey } from './dynamo-table.ts';
import { GSI1, GSI2, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from './dynamo-table-schema.ts';
import { ListingQueryError } from './store-errors.ts';

/** Longest trace detail kept, in characters. */
const MAX_TRACE_DETAIL = 100_000;

/**
 * The message records of the DynamoDB store: the record item (`MSG#<id>` / `MESSAGE`), its trace items,
 * and the listings by gsi1 (`MESSAGES#<day>#<shard>`, `MAILBOX#…`) and gsi2 (unfinished, failed, by
 * shard); the sharded ones are {@link MessageListingIndex}'s.
 */
export class DynamoMessageRecords implements MessageRecords {
  readonly #context: DynamoStoreContext;
  readonly #listing: MessageListingIndex;

  constructor(context: DynamoStoreContext) {
    this.#context = context;
    this.#listing = new MessageListingIndex(context);
  }

  async recordReceived(rec: {
    id: string;
    receivedAt: string;
    envelope: Envelope;
    size: number;
  }): Promise<void> {
    const order = timeKey(rec.receivedAt, rec.id);
    // The day first: a record is only listed once its day is (a repeated call completes both).
    await this.#listing.noteDay(order);
    await this.#context.table.putNew(`record message ${rec.id}`, {
      [TABLE_PARTITION_KEY]: keys.message(rec.id),
      [TABLE_SORT_KEY]: keys.messageRecord,
      type: 'message',
      id: rec.id,
      receivedAt: rec.receivedAt,
      mailFrom: rec.envelope.mailFrom,
      rcptTo: rec.envelope.rcptTo,
      size: rec.size,
      status: 'received',
      remoteAddress: rec.envelope.remoteAddress,
      helo: rec.envelope.helo,
      [GSI1.partitionKey]: this.#listing.listingKey(rec.id, order),
      [GSI1.sortKey]: order,
      [GSI2.partitionKey]: this.#listing.statusKey('unfinished', rec.id),
      [GSI2.sortKey]: order,
      [TTL_ATTRIBUTE]: this.#context.expiresAt(),
    });
  }

  async saveAuth(id: string, auth: AuthVerdicts | null): Promise<void> {
    await this.#context.table.update(`save auth of ${id}`, itemKey(keys.message(id), keys.messageRecord), {
      set: { auth: auth ? JSON.stringify(auth) : undefined },
      onlyIfExists: true,
    });
  }

  async setStatus(id: string, status: MessageStatus): Promise<void> {
    const listedAs =
      status === 'processed'
        ? undefined
        : this.#listing.statusKey(status === 'failed' ? 'failed' : 'unfinished', id);
    await this.#context.table.update(`set status of ${id}`, itemKey(keys.message(id), keys.messageRecord), {
      set: { status, [GSI2.partitionKey]: listedAs },
      onlyIfExists: true,
    });
  }

  async addTrace(id: string, step: string, detail: string): Promise<void> {
    await this.#context.table.put(`add trace to ${id}`, {
      [TABLE_PARTITION_KEY]: keys.message(id),
      [TABLE_SORT_KEY]: keys.trace(this.#context.order.next()),
      type: 'trace',
      at: this.#context.now().toISOString(),
      step,
      detail: detail.length > MAX_TRACE_DETAIL ? `${detail.slice(0, MAX_TRACE_DETAIL)}…` : detail,
      [TTL_ATTRIBUTE]: this.#context.expiresAt(),
    });
  }

  async hasMessage(id: string): Promise<boolean> {
    const item = await this.#context.table.get(
      `read message ${id}`,
      itemKey(keys.message(id), keys.messageRecord),
      TABLE_PARTITION_KEY,
    );
    return item !== null;
  }

  /** One strongly consistent Query of the message's partition: record, parse, trace and deliveries. */
  async getMessage(id: string): Promise<MessageDetail | null> {
    const items = await this.#context.table.queryAll(`read message ${id}`, {
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
      ExpressionAttributeValues: { ':pk': { S: keys.message(id) } },
      ConsistentRead: true,
    });
    let record: MessageItem | undefined;
    let parsedItem: ParsedItem | undefined;
    const deliveries: DeliveryItem[] = [];
    const trace: TraceEntry[] = [];
    for (const raw of items) {
      const sk = raw[TABLE_SORT_KEY]?.S ?? '';
      const item = unmarshall(raw);
      if (sk === keys.messageRecord) record = item as MessageItem;
      else if (sk === keys.parsedRecord) parsedItem = item as ParsedItem;
      else if (sk.startsWith(keys.deliveryPrefix)) deliveries.push(item as DeliveryItem);
      else if (sk.startsWith(keys.tracePrefix))
        trace.push({ at: item.at, step: item.step, detail: item.detail });
    }
    if (!record) return null;
    const parsed = await decodeParsedItem(parsedItem);
    const ordered = deliveries.sort(byOrder);
    return messageDetail(messageSummary(record, ordered), {
      parsed,
      authJson: record.auth,
      trace,
      deliveries: ordered,
    });
  }

  /**
   * Newest first (`receivedAt`, then id, descending).
   * @param opts.mailbox only messages held by this mailbox.
   * @param opts.limit @default 100
   * @param opts.before the next page: only messages after this `messageCursor` in that order
   * @throws ListingQueryError (not retryable) for a filter this store cannot answer (`status`, `route`,
   * `deliveryFailed`, `search`: the local store's), or a `before` that is not a cursor.
   */
  async listMessages(opts: MessageQuery = {}): Promise<MessageSummary[]> {
    const unsupported = UNSUPPORTED_FILTERS.filter((f) => opts[f] !== undefined);
    if (unsupported.length > 0) {
      throw new ListingQueryError(`the DynamoDB store cannot filter listings by ${unsupported.join(', ')}`);
    }
    const limit = Math.max(0, Math.floor(opts.limit ?? 100));
    if (limit === 0) return [];
    const below = opts.before === undefined ? undefined : cursorKey(opts.before);
    if (opts.mailbox !== undefined) {
      const gsi1pk = indexKeys.mailboxMessages(opts.mailbox);
      const bound = below === undefined ? undefined : { op: '<' as const, key: below };
      return this.#context.listVia(`list mailbox ${opts.mailbox}`, gsi1pk, false, limit, () => true, bound);
    }
    const items = await this.#listing.newestFirst(limit, below);
    return this.#context.summaries(items.map((item) => unmarshall(item) as MessageItem));
  }

  /** Oldest first, so recovery processes in arrival order. */
  listUnfinished(): Promise<string[]> {
    return this.#listing.idsByStatus('unfinished');
  }

  /** Oldest first. */
  listFailed(opts: { receivedSince?: string } = {}): Promise<string[]> {
    return this.#listing.idsByStatus('failed', opts.receivedSince);
  }
}

const UNSUPPORTED_FILTERS = ['status', 'route', 'deliveryFailed', 'search'] as const;

/**
 * The index sort key (`receivedAt#id`) a listing cursor names.
 * @throws ListingQueryError (not retryable) when it is not a `messageCursor`.
 */
export function cursorKey(cursor: string): string {
  const at = parseMessageCursor(cursor);
  if (!at) throw new ListingQueryError('before is not a listing cursor');
  return timeKey(at.receivedAt, at.id);
}

/** The stored parse (JSON, or gzip when large), or null when there is none. */
async function decodeParsedItem(item: ParsedItem | undefined): Promise<ParsedMessage | null> {
  if (item?.parsedJson !== undefined) return decodeParsed({ json: item.parsedJson });
  if (item?.parsedGzip !== undefined) return decodeParsed({ gzip: Buffer.from(item.parsedGzip) });
  return null;
}
