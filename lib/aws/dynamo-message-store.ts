/**
 * {@link MessageStore} on one DynamoDB table (single-table design), with the semantics of the SQLite store.
 *
 * ## Items
 *
 * | item | `pk` | `sk` | `gsi1pk` / `gsi1sk` | `gsi2pk` / `gsi2sk` |
 * |---|---|---|---|---|
 * | message record | `MSG#<id>` | `MESSAGE` | `MESSAGES` / `<receivedAt>#<id>` | `STATUS#unfinished` or `STATUS#failed` (absent once processed) / `<receivedAt>#<id>` |
 * | parse result | `MSG#<id>` | `PARSED` | – | – |
 * | thread membership | `MSG#<id>` | `THREAD` | `THREAD#<threadId>` / `<receivedAt>#<id>` | – |
 * | trace entry | `MSG#<id>` | `TRACE#<order>` | – | – |
 * | delivery | `MSG#<messageId>` | `DELIVERY#<key>` | – | – |
 * | delivery key | `DLVKEY#<key>` | `DLVKEY` | – | – |
 * | mailbox entry | `MAILBOX#<mailbox>` | `MSG#<messageId>` | `MAILBOX#<mailbox>` / message's `<receivedAt>#<id>` | – |
 * | thread lookup by Message-ID | `HMID#<Message-ID>` | `MSG#<id>` | – | – |
 * | thread lookup by Thread-Index root | `TIDX#<root>` | `<receivedAt>#<id>` | – | – |
 * | thread lookup by subject + participants | `SUBJ#<subjectKey>` | `<receivedAt>#<id>` | – | – |
 * | outbox entry (head) | `OUTBOX#<id>` | `OUTBOX` | `OUTBOX` / `<createdAt>#<id>` | `OUTBOX#<inReplyTo>` (replies only) / `<createdAt>#<id>` |
 * | outbox bytes | `OUTBOX#<id>` | `RAW#<nonce>#<n>` | – | – |
 *
 * Values from outside (Message-IDs, mailbox names, idempotency keys) are used in keys as they are up to
 * 400 bytes and hashed beyond (`dynamo-keys.ts`). `<order>` is a time-ordered unique string.
 *
 * ## Access patterns
 *
 * - `getMessage`: one strongly consistent Query on the message's partition returns its record, parse,
 *   trace (in order) and deliveries. `recordReceived`, `putMailboxEntry` and `putOutboxEntry` are
 *   conditional puts (`attribute_not_exists`), so a repeated call changes nothing.
 * - `getDelivery(key)`: the delivery-key item names the message, then the delivery is read from the
 *   message's partition; both reads strongly consistent. A delivery keeps the position (`order`) of its
 *   first write, so the summary lists deliveries in creation order, as SQLite does.
 * - `listMessages`: gsi1 `MESSAGES`, newest first; with a mailbox, gsi1 `MAILBOX#<mailbox>` (the mailbox
 *   entries, sorted by their message's arrival) and a consistent BatchGetItem of the message records.
 *   Deliveries: one Query per listed message, in parallel.
 * - `listThread`: gsi1 `THREAD#<threadId>`, oldest first, then a BatchGetItem of the records.
 * - `listUnfinished` / `listFailed`: gsi2, a sparse index that holds only messages not yet processed
 *   (or failed), oldest first, so it stays small however many messages are kept.
 * - `listOutbox`: gsi1 `OUTBOX` (all) or gsi2 `OUTBOX#<inReplyTo>`, newest first; the heads are small,
 *   the bytes live in separate chunk items.
 * - `saveParsed` files the message in a thread by strongly consistent Queries on the lookup items
 *   (`HMID#`, `TIDX#`, `SUBJ#`), with the same rules as the SQLite store (see
 *   {@link MessageStore.saveParsed}). The thread id lives on the message record (and the membership item
 *   that gsi1 lists threads by); the stored parse is written once and its `thread.id` is read from the
 *   record, so moving replies that arrived before their parent touches two small items per message.
 *
 * GSI reads are eventually consistent (usually well under a second on AWS): a listing may miss a message
 * recorded a moment ago. Every read that decides something (idempotency, thread filing) is consistent.
 * All listings of gsi1 `MESSAGES` share one partition key value; DynamoDB serves about 1000 writes per
 * second per value, and each message record is written about five times while it is processed.
 *
 * ## Size
 *
 * An item holds at most 400 KB. A parse up to 32 KB of JSON is kept as a string; larger ones as gzip
 * (Binary). A parse whose gzip exceeds 350 KB is cut down step by step (html dropped, text cut, long
 * lists cut) until it fits, with a `problems` entry saying what was cut (`dynamo-parsed-codec.ts`); the
 * raw message in the raw store keeps everything. Outbox bytes are split into 300 KiB chunk items (head
 * written last, conditionally: the commit point), so sent messages of any size fit. Trace details are
 * cut to 100 000 characters. Mailbox entry data is JSON up to about 390 KB (a handler's summary, not
 * a message); larger data fails the write with a {@link DynamoStoreError}. The message record itself
 * stays small: the parser bounds subject and sender to 64 KiB each, SMTP ingress the recipients
 * (`maxRecipients`, 100 by default), and the parse lives in its own item.
 *
 * ## Retention
 *
 * With `retentionDays`, every item gets `expiresAt` (epoch seconds) = the time of its first write + that
 * many days; updates never extend it, and the items `saveParsed` writes take the expiry of their
 * message's record, so a re-parse never outlives it. DynamoDB's TTL deletes an item some time after
 * (typically within days; until then it is still read). Items pointing at a deleted record (a lookup, a
 * mailbox entry) are skipped by the reads that follow them. Without `retentionDays` items are kept.
 *
 * Files: key values in `dynamo-keys.ts`, item shapes in `dynamo-store-items.ts`, the requests (error
 * wrapping, conditional writes, batched reads) in `dynamo-table.ts`, the parse encoding in
 * `dynamo-parsed-codec.ts`.
 *
 * No multi-item transactions (dynalite, the emulator the tests use, has none), and none are needed: writes
 * that touch several items are ordered so that an interrupted call, repeated (the pipeline repeats
 * work on failure), completes it.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuthVerdicts } from '../auth/verdicts.ts';
import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/types.ts';
import { type ThreadKeys, threadKeys } from '../store/thread-keys.ts';
import type {
  DeliveryRecord,
  MailboxEntry,
  MessageDetail,
  MessageStatus,
  MessageStore,
  MessageSummary,
  OutboxEntry,
  OutboxSummary,
  TraceEntry,
} from '../store/types.ts';
import { indexKeys, keys, OrderKeys, timeKey } from './dynamo-keys.ts';
import { mapLimit } from './dynamo-map-limit.ts';
import { decodeParsed, type EncodedParsed, encodeParsed } from './dynamo-parsed-codec.ts';
import { DynamoStoreError } from './dynamo-store-error.ts';
import {
  type DeliveryItem,
  json,
  type MailboxItem,
  type MessageItem,
  type OutboxHeadItem,
  type ParsedItem,
  toRecord,
  toSummary,
} from './dynamo-store-items.ts';
import { DynamoTable, describeError, itemKey, type Key } from './dynamo-table.ts';
import { GSI1, GSI2, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from './dynamo-table-schema.ts';

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
}

/** Outbox bytes per chunk item. */
const OUTBOX_CHUNK_BYTES = 300 * 1024;
/** Longest trace detail kept, in characters. */
const MAX_TRACE_DETAIL = 100_000;
/** Delivery keys remembered per store (a long-lived Lambda container processes many messages). */
const MAX_REMEMBERED_DELIVERY_KEYS = 10_000;
/** Records read per page of a listing (and per BatchGetItem). */
const LIST_PAGE = 100;

const byOrder = (a: { order: string }, b: { order: string }): number =>
  a.order < b.order ? -1 : a.order > b.order ? 1 : 0;

/** The DynamoDB {@link MessageStore}; see the design note at the top of this file. */
export class DynamoMessageStore implements MessageStore {
  readonly #table: DynamoTable;
  readonly #retentionSeconds: number | undefined;
  readonly #now: () => Date;
  readonly #concurrency: number;
  readonly #order = new OrderKeys();
  /** Delivery keys whose key item this store wrote (key → message id), to skip rewriting it. */
  readonly #deliveryKeysWritten = new Map<string, string>();

  constructor(options: DynamoMessageStoreOptions) {
    const days = options.retentionDays;
    if (days !== undefined && !(Number.isFinite(days) && days > 0)) {
      throw new RangeError(`retentionDays must be a positive number, got ${days}`);
    }
    this.#retentionSeconds = days === undefined ? undefined : Math.ceil(days * 86_400);
    this.#now = options.now ?? (() => new Date());
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
    this.#table = new DynamoTable(options.client, options.tableName, this.#concurrency);
  }

  // ---------------------------------------------------------------------------------------------------
  // messages

  async recordReceived(rec: {
    id: string;
    receivedAt: string;
    envelope: Envelope;
    size: number;
  }): Promise<void> {
    const order = timeKey(rec.receivedAt, rec.id);
    await this.#table.putNew(`record message ${rec.id}`, {
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
      [GSI1.partitionKey]: indexKeys.allMessages,
      [GSI1.sortKey]: order,
      [GSI2.partitionKey]: indexKeys.unfinished,
      [GSI2.sortKey]: order,
      [TTL_ATTRIBUTE]: this.#expiresAt(),
    });
  }

  async saveParsed(id: string, parsed: ParsedMessage): Promise<{ threadId: string }> {
    const message = await this.#getMessageItem(id);
    const threadKeyset = threadKeys(parsed);
    const threadId = (await this.#findThread(id, threadKeyset)) ?? parsed.thread.id;
    // Like the SQLite store's UPDATE of a missing row: the thread is still answered, nothing is kept.
    if (!message) return { threadId };

    let encoded: EncodedParsed;
    try {
      ({ encoded } = await encodeParsed({ ...parsed, thread: { id: threadId } }));
    } catch (cause) {
      throw new DynamoStoreError(`encoding the parse of message ${id} failed: ${describeError(cause)}`, {
        cause,
      });
    }
    const partition = keys.message(id);
    const arrival = timeKey(message.receivedAt, id);
    const expiresAt = message[TTL_ATTRIBUTE] ?? this.#expiresAt();
    const writes: Array<Promise<unknown>> = [
      this.#table.put(`save parse of ${id}`, {
        [TABLE_PARTITION_KEY]: partition,
        [TABLE_SORT_KEY]: keys.parsedRecord,
        type: 'parsed',
        ...('json' in encoded ? { parsedJson: encoded.json } : { parsedGzip: encoded.gzip }),
        [TTL_ATTRIBUTE]: expiresAt,
      }),
      this.#table.put(`save thread of ${id}`, {
        [TABLE_PARTITION_KEY]: partition,
        [TABLE_SORT_KEY]: keys.threadRecord,
        type: 'thread',
        id,
        threadId,
        [GSI1.partitionKey]: indexKeys.thread(threadId),
        [GSI1.sortKey]: arrival,
        [TTL_ATTRIBUTE]: expiresAt,
      }),
    ];
    // The lookup items other messages find this one's thread by; stale ones (a changed parse) go.
    const lookups: Array<[string | null, string | undefined, (v: string) => Key]> = [
      [
        threadKeyset.messageId,
        message.headerMessageId,
        (v) => itemKey(keys.byHeaderId(v), keys.lookupMember(id)),
      ],
      [threadKeyset.threadIndexRoot, message.threadIndexRoot, (v) => itemKey(keys.byThreadIndex(v), arrival)],
      [threadKeyset.subjectKey, message.subjectKey, (v) => itemKey(keys.bySubject(v), arrival)],
    ];
    for (const [now, before, keyOf] of lookups) {
      if (before !== undefined && before !== now) {
        writes.push(this.#table.delete(`drop thread lookup of ${id}`, keyOf(before)));
      }
      if (now !== null) {
        writes.push(
          this.#table.put(`save thread lookup of ${id}`, {
            ...unmarshall(keyOf(now)),
            type: 'lookup',
            id,
            [TTL_ATTRIBUTE]: expiresAt,
          }),
        );
      }
    }
    await Promise.all(writes);

    await this.#table.update(`save parse fields of ${id}`, itemKey(partition, keys.messageRecord), {
      set: {
        subject: parsed.subject,
        from: parsed.from,
        threadId,
        headerMessageId: threadKeyset.messageId ?? undefined,
        threadIndexRoot: threadKeyset.threadIndexRoot ?? undefined,
        subjectKey: threadKeyset.subjectKey ?? undefined,
      },
      onlyIfExists: true,
    });

    if (threadKeyset.rootedHere !== null && threadKeyset.rootedHere !== threadId) {
      await this.#moveThread(threadKeyset.rootedHere, threadId);
    }
    return { threadId };
  }

  /** The thread of a stored message this one belongs with, or null (the SQLite store's rules). */
  async #findThread(id: string, k: ThreadKeys): Promise<string | null> {
    // References, In-Reply-To, own Message-ID: the first of them (in that order) that a stored message has.
    for (let i = 0; i < k.lookupIds.length; i += this.#concurrency) {
      const chunk = k.lookupIds.slice(i, i + this.#concurrency);
      const found = await Promise.all(
        chunk.map((headerId) =>
          this.#table.queryAll('find thread by Message-ID', {
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
            ExpressionAttributeValues: { ':pk': { S: keys.byHeaderId(headerId) } },
            ConsistentRead: true,
          }),
        ),
      );
      const candidates = found.flatMap((items) => items.map((item) => String(unmarshall(item).id)));
      const thread = await this.#firstThreadOf(candidates.filter((c) => c !== id));
      if (thread !== null) return thread;
    }
    if (k.threadIndexRoot !== null) {
      const thread = await this.#firstThreadInLookup(id, keys.byThreadIndex(k.threadIndexRoot), true);
      if (thread !== null) return thread;
    }
    // Only a reply that names no earlier message at all falls back to subject + participants.
    const unreferenced = k.lookupIds.length === (k.messageId ? 1 : 0);
    if (unreferenced && k.prefixedSubject && k.subjectKey !== null) {
      return this.#firstThreadInLookup(id, keys.bySubject(k.subjectKey), false);
    }
    return null;
  }

  /** The thread of the first message (oldest or newest first) listed under a lookup partition. */
  async #firstThreadInLookup(id: string, pk: string, oldestFirst: boolean): Promise<string | null> {
    let start: Key | undefined;
    do {
      const page = await this.#table.query('find thread', {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
        ScanIndexForward: oldestFirst,
        Limit: 10,
        ExclusiveStartKey: start,
      });
      const ids = (page.Items ?? []).map((item) => String(unmarshall(item).id)).filter((c) => c !== id);
      const thread = await this.#firstThreadOf(ids);
      if (thread !== null) return thread;
      start = page.LastEvaluatedKey;
    } while (start);
    return null;
  }

  /** The thread id of the first of these messages (in this order) that has one. */
  async #firstThreadOf(ids: string[]): Promise<string | null> {
    if (ids.length === 0) return null;
    const records = await this.#messageItems(ids);
    for (const id of ids) {
      const threadId = records.get(id)?.threadId;
      if (threadId !== undefined) return threadId;
    }
    return null;
  }

  /** Moves every message of thread `from` into thread `to` (replies that arrived before their parent). */
  async #moveThread(from: string, to: string): Promise<void> {
    const members = await this.#table.queryAll(`list thread ${from}`, {
      IndexName: GSI1.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': GSI1.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: indexKeys.thread(from) } },
    });
    await mapLimit(members, this.#concurrency, async (item) => {
      const { id } = unmarshall(item) as { id: string };
      const partition = keys.message(id);
      // The record first: it is what listings and thread filing trust.
      await this.#table.update(`move ${id} to thread ${to}`, itemKey(partition, keys.messageRecord), {
        set: { threadId: to },
        onlyIf: { threadId: from },
      });
      await this.#table.update(`move ${id} to thread ${to}`, itemKey(partition, keys.threadRecord), {
        set: { threadId: to, [GSI1.partitionKey]: indexKeys.thread(to) },
        onlyIf: { threadId: from },
      });
    });
  }

  async saveAuth(id: string, auth: AuthVerdicts | null): Promise<void> {
    await this.#table.update(`save auth of ${id}`, itemKey(keys.message(id), keys.messageRecord), {
      set: { auth: auth ? JSON.stringify(auth) : undefined },
      onlyIfExists: true,
    });
  }

  async setStatus(id: string, status: MessageStatus): Promise<void> {
    const listedAs =
      status === 'processed' ? undefined : status === 'failed' ? indexKeys.failed : indexKeys.unfinished;
    await this.#table.update(`set status of ${id}`, itemKey(keys.message(id), keys.messageRecord), {
      set: { status, [GSI2.partitionKey]: listedAs },
      onlyIfExists: true,
    });
  }

  async hasMessage(id: string): Promise<boolean> {
    const item = await this.#table.get(
      `read message ${id}`,
      itemKey(keys.message(id), keys.messageRecord),
      TABLE_PARTITION_KEY,
    );
    return item !== null;
  }

  async getMessage(id: string): Promise<MessageDetail | null> {
    const items = await this.#table.queryAll(`read message ${id}`, {
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
    let parsed: ParsedMessage | null = null;
    if (parsedItem?.parsedJson !== undefined) parsed = await decodeParsed({ json: parsedItem.parsedJson });
    else if (parsedItem?.parsedGzip !== undefined) {
      parsed = await decodeParsed({ gzip: Buffer.from(parsedItem.parsedGzip) });
    }
    // The record holds the thread (replies are moved by updating it); the stored parse may predate a move.
    if (parsed && record.threadId !== undefined) parsed = { ...parsed, thread: { id: record.threadId } };
    return {
      ...toSummary(record, deliveries.sort(byOrder)),
      parsed,
      auth: json<AuthVerdicts | null>(record.auth, null),
      trace,
    };
  }

  /**
   * Newest first (`receivedAt`, then id, descending).
   * @param opts.mailbox only messages held by this mailbox.
   * @param opts.limit @default 100
   */
  async listMessages(opts: { mailbox?: string; limit?: number } = {}): Promise<MessageSummary[]> {
    const limit = Math.max(0, Math.floor(opts.limit ?? 100));
    if (limit === 0) return [];
    if (opts.mailbox === undefined) {
      const records: MessageItem[] = [];
      let start: Key | undefined;
      do {
        const page = await this.#table.query('list messages', {
          IndexName: GSI1.indexName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': GSI1.partitionKey },
          ExpressionAttributeValues: { ':pk': { S: indexKeys.allMessages } },
          ScanIndexForward: false,
          Limit: limit - records.length,
          ExclusiveStartKey: start,
        });
        for (const item of page.Items ?? []) records.push(unmarshall(item) as MessageItem);
        start = page.LastEvaluatedKey;
      } while (start && records.length < limit);
      return this.#summaries(records);
    }
    return this.#listVia(
      `list mailbox ${opts.mailbox}`,
      indexKeys.mailboxMessages(opts.mailbox),
      false,
      limit,
      () => true,
    );
  }

  /**
   * Oldest first (`receivedAt`, then id).
   * @param opts.limit @default 500
   */
  async listThread(threadId: string, opts: { limit?: number } = {}): Promise<MessageSummary[]> {
    const limit = Math.max(0, Math.floor(opts.limit ?? 500));
    if (limit === 0) return [];
    return this.#listVia(
      `list thread ${threadId}`,
      indexKeys.thread(threadId),
      true,
      limit,
      (m) => m.threadId === threadId,
    );
  }

  /**
   * Summaries of the messages a gsi1 partition lists (by `messageId` or `id`), in its order, read from
   * their records; those without a record, or that `accept` refuses, are skipped.
   */
  async #listVia(
    what: string,
    gsi1pk: string,
    oldestFirst: boolean,
    limit: number,
    accept: (m: MessageItem) => boolean,
  ): Promise<MessageSummary[]> {
    const records: MessageItem[] = [];
    let start: Key | undefined;
    do {
      const page = await this.#table.query(what, {
        IndexName: GSI1.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': GSI1.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: gsi1pk } },
        ScanIndexForward: oldestFirst,
        Limit: Math.min(LIST_PAGE, limit - records.length),
        ExclusiveStartKey: start,
      });
      const ids = (page.Items ?? []).map((item) => {
        const v = unmarshall(item);
        return String(v.messageId ?? v.id);
      });
      const found = await this.#messageItems(ids);
      for (const id of ids) {
        const m = found.get(id);
        if (m && accept(m) && records.length < limit) records.push(m);
      }
      start = page.LastEvaluatedKey;
    } while (start && records.length < limit);
    return this.#summaries(records);
  }

  /** Summaries of these records, in their order, each with its deliveries. */
  async #summaries(records: MessageItem[]): Promise<MessageSummary[]> {
    const deliveries = await mapLimit(records, this.#concurrency, (m) => this.#deliveryItems(m.id));
    return records.map((m, i) => toSummary(m, deliveries[i] ?? []));
  }

  /** Oldest first, so recovery processes in arrival order. */
  listUnfinished(): Promise<string[]> {
    return this.#idsByStatus(indexKeys.unfinished);
  }

  /** Oldest first. */
  listFailed(opts: { receivedSince?: string } = {}): Promise<string[]> {
    return this.#idsByStatus(indexKeys.failed, opts.receivedSince);
  }

  /** The sort key is `<receivedAt>#<id>`: `since` bounds it from below. */
  async #idsByStatus(gsi2pk: string, since?: string): Promise<string[]> {
    const items = await this.#table.queryAll(`list ${gsi2pk}`, {
      IndexName: GSI2.indexName,
      KeyConditionExpression: since === undefined ? '#pk = :pk' : '#pk = :pk AND #sk >= :since',
      ExpressionAttributeNames: {
        '#pk': GSI2.partitionKey,
        '#id': 'id',
        ...(since === undefined ? {} : { '#sk': GSI2.sortKey }),
      },
      ExpressionAttributeValues: {
        ':pk': { S: gsi2pk },
        ...(since === undefined ? {} : { ':since': { S: since } }),
      },
      ProjectionExpression: '#id',
    });
    return items.map((item) => String(unmarshall(item).id));
  }

  // ---------------------------------------------------------------------------------------------------
  // deliveries

  async getDelivery(deliveryKey: string): Promise<DeliveryRecord | null> {
    const pointer = await this.#table.get<{ messageId: string }>(
      `read delivery key ${deliveryKey}`,
      itemKey(keys.deliveryKey(deliveryKey), keys.deliveryKeyRecord),
    );
    if (!pointer) return null;
    const item = await this.#table.get<DeliveryItem>(
      `read delivery ${deliveryKey}`,
      itemKey(keys.message(pointer.messageId), keys.delivery(deliveryKey)),
    );
    return item ? toRecord(item) : null;
  }

  /** Upserts in place, so a delivery keeps its position (first write) in the summary. */
  async putDelivery(d: DeliveryRecord): Promise<void> {
    // The key item first: a delivery is only found through it, so one without it can never be half-seen.
    if (this.#deliveryKeysWritten.get(d.key) !== d.messageId) {
      const before = await this.#table.update(
        `record delivery key ${d.key}`,
        itemKey(keys.deliveryKey(d.key), keys.deliveryKeyRecord),
        {
          set: { type: 'deliveryKey', key: d.key, messageId: d.messageId },
          setIfMissing: { [TTL_ATTRIBUTE]: this.#expiresAt() },
          returnOld: true,
        },
      );
      const previous = before ? before.messageId : undefined;
      if (typeof previous === 'string' && previous !== d.messageId) {
        // the key now belongs to another message: its old record must not linger in that summary
        await this.#table.delete(
          `drop moved delivery ${d.key}`,
          itemKey(keys.message(previous), keys.delivery(d.key)),
        );
      }
      if (this.#deliveryKeysWritten.size >= MAX_REMEMBERED_DELIVERY_KEYS) this.#deliveryKeysWritten.clear();
      this.#deliveryKeysWritten.set(d.key, d.messageId);
    }
    await this.#table.update(
      `record delivery ${d.key}`,
      itemKey(keys.message(d.messageId), keys.delivery(d.key)),
      {
        set: {
          type: 'delivery',
          key: d.key,
          messageId: d.messageId,
          recipient: d.recipient,
          recipients: d.recipients,
          route: d.route,
          action: d.action,
          target: d.target,
          mailbox: d.mailbox,
          params: JSON.stringify(d.params),
          status: d.status,
          attempts: d.attempts,
          error: d.error,
          updatedAt: d.updatedAt,
        },
        setIfMissing: { order: this.#order.next(), [TTL_ATTRIBUTE]: this.#expiresAt() },
      },
    );
  }

  /** Every delivery of one message, in creation order. */
  async listDeliveries(messageId: string): Promise<DeliveryRecord[]> {
    return (await this.#deliveryItems(messageId)).map(toRecord);
  }

  async #deliveryItems(messageId: string): Promise<DeliveryItem[]> {
    const items = await this.#table.queryAll(`list deliveries of ${messageId}`, {
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

  // ---------------------------------------------------------------------------------------------------
  // mailboxes and trace

  async putMailboxEntry(entry: MailboxEntry): Promise<boolean> {
    // Listed (gsi1) by the message's arrival, as `listMessages({ mailbox })` orders; by the entry's own
    // time when the message has no record (it is only listed once it has one).
    const message = await this.#getMessageItem(entry.messageId);
    return this.#table.putNew(`put message ${entry.messageId} in mailbox ${entry.mailbox}`, {
      [TABLE_PARTITION_KEY]: keys.mailbox(entry.mailbox),
      [TABLE_SORT_KEY]: keys.mailboxEntry(entry.messageId),
      type: 'mailboxEntry',
      mailbox: entry.mailbox,
      messageId: entry.messageId,
      data: entry.data ? JSON.stringify(entry.data) : null,
      createdAt: entry.createdAt,
      order: this.#order.next(),
      [GSI1.partitionKey]: indexKeys.mailboxMessages(entry.mailbox),
      [GSI1.sortKey]: timeKey(message?.receivedAt ?? entry.createdAt, entry.messageId),
      [TTL_ATTRIBUTE]: this.#expiresAt(),
    });
  }

  /** Oldest first (the order messages arrived in the mailbox). */
  async listMailboxEntries(mailbox: string): Promise<MailboxEntry[]> {
    const items = await this.#table.queryAll(`list mailbox ${mailbox}`, {
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
      ExpressionAttributeValues: { ':pk': { S: keys.mailbox(mailbox) } },
      ConsistentRead: true,
    });
    return items
      .map((item) => unmarshall(item) as MailboxItem)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : byOrder(a, b)))
      .map((e) => ({
        mailbox: e.mailbox,
        messageId: e.messageId,
        data: json<Record<string, unknown> | null>(e.data, null),
        createdAt: e.createdAt,
      }));
  }

  async addTrace(id: string, step: string, detail: string): Promise<void> {
    await this.#table.put(`add trace to ${id}`, {
      [TABLE_PARTITION_KEY]: keys.message(id),
      [TABLE_SORT_KEY]: keys.trace(this.#order.next()),
      type: 'trace',
      at: this.#now().toISOString(),
      step,
      detail: detail.length > MAX_TRACE_DETAIL ? `${detail.slice(0, MAX_TRACE_DETAIL)}…` : detail,
      [TTL_ATTRIBUTE]: this.#expiresAt(),
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // outbox

  async putOutboxEntry(entry: OutboxEntry): Promise<boolean> {
    const head = itemKey(keys.outbox(entry.id), keys.outboxRecord);
    if (await this.#table.get(`read outbox entry ${entry.id}`, head, TABLE_PARTITION_KEY)) return false;
    // The bytes go first, under a nonce of this write; the head, written only if none exists, commits them.
    const nonce = randomBytes(8).toString('hex');
    const chunks: Buffer[] = [];
    for (let at = 0; at < entry.raw.length; at += OUTBOX_CHUNK_BYTES) {
      chunks.push(entry.raw.subarray(at, at + OUTBOX_CHUNK_BYTES));
    }
    const chunkKeys = chunks.map((_, n) => itemKey(keys.outbox(entry.id), keys.outboxChunk(nonce, n)));
    const expiresAt = this.#expiresAt();
    await mapLimit(
      chunks.map((data, n) => ({ data, k: chunkKeys[n]! })),
      this.#concurrency,
      ({ data, k }) =>
        this.#table.put(`store bytes of outbox entry ${entry.id}`, {
          ...unmarshall(k),
          type: 'outboxChunk',
          data,
          [TTL_ATTRIBUTE]: expiresAt,
        }),
    );
    const headItem: OutboxHeadItem & Record<string, unknown> = {
      [TABLE_PARTITION_KEY]: keys.outbox(entry.id),
      [TABLE_SORT_KEY]: keys.outboxRecord,
      type: 'outbox',
      id: entry.id,
      messageId: entry.messageId,
      inReplyTo: entry.inReplyTo,
      envelope: { from: entry.envelope.from, to: [...entry.envelope.to] },
      subject: entry.subject,
      createdAt: entry.createdAt,
      transport: entry.transport,
      size: entry.raw.length,
      chunks: chunks.length,
      nonce,
      [GSI1.partitionKey]: indexKeys.allOutbox,
      [GSI1.sortKey]: timeKey(entry.createdAt, entry.id),
      [TTL_ATTRIBUTE]: expiresAt,
    };
    if (entry.inReplyTo !== null) {
      headItem[GSI2.partitionKey] = indexKeys.outboxReplies(entry.inReplyTo);
      headItem[GSI2.sortKey] = timeKey(entry.createdAt, entry.id);
    }
    if (!(await this.#table.putNew(`record outbox entry ${entry.id}`, headItem))) {
      // Another writer committed first: our chunks are unreachable (another nonce); tidy them away.
      await mapLimit(chunkKeys, this.#concurrency, (k) =>
        this.#table.delete(`drop bytes of outbox entry ${entry.id}`, k),
      );
      return false;
    }
    return true;
  }

  async getOutboxEntry(id: string): Promise<OutboxEntry | null> {
    const head = await this.#table.get<OutboxHeadItem>(
      `read outbox entry ${id}`,
      itemKey(keys.outbox(id), keys.outboxRecord),
    );
    if (!head) return null;
    const chunks = await this.#table.queryAll(`read bytes of outbox entry ${id}`, {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#sk': TABLE_SORT_KEY },
      ExpressionAttributeValues: {
        ':pk': { S: keys.outbox(id) },
        ':prefix': { S: keys.outboxChunkPrefix(head.nonce) },
      },
      ConsistentRead: true,
    });
    if (chunks.length !== head.chunks) {
      throw new DynamoStoreError(
        `outbox entry ${id} has ${chunks.length} of its ${head.chunks} byte chunks (table damaged?)`,
      );
    }
    const raw = Buffer.concat(chunks.map((c) => Buffer.from(c.data?.B ?? new Uint8Array(0))));
    return {
      id: head.id,
      messageId: head.messageId,
      inReplyTo: head.inReplyTo ?? null,
      envelope: { from: head.envelope.from, to: head.envelope.to },
      subject: head.subject ?? null,
      createdAt: head.createdAt,
      transport: head.transport,
      raw,
    };
  }

  /**
   * Newest first (`createdAt`, then id, descending).
   * @param opts.inReplyTo only replies to this message.
   * @param opts.limit @default 100
   */
  async listOutbox(opts: { inReplyTo?: string; limit?: number } = {}): Promise<OutboxSummary[]> {
    const limit = Math.max(0, Math.floor(opts.limit ?? 100));
    if (limit === 0) return [];
    const index = opts.inReplyTo === undefined ? GSI1 : GSI2;
    const pk = opts.inReplyTo === undefined ? indexKeys.allOutbox : indexKeys.outboxReplies(opts.inReplyTo);
    const heads: OutboxHeadItem[] = [];
    let start: Key | undefined;
    do {
      const page = await this.#table.query('list outbox', {
        IndexName: index.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ScanIndexForward: false,
        Limit: limit - heads.length,
        ExclusiveStartKey: start,
      });
      for (const item of page.Items ?? []) heads.push(unmarshall(item) as OutboxHeadItem);
      start = page.LastEvaluatedKey;
    } while (start && heads.length < limit);
    return heads.map((h) => ({
      id: h.id,
      messageId: h.messageId,
      inReplyTo: h.inReplyTo ?? null,
      from: h.envelope.from,
      to: h.envelope.to,
      subject: h.subject ?? null,
      createdAt: h.createdAt,
      transport: h.transport,
      size: h.size,
    }));
  }

  /** Later calls fail with a {@link DynamoStoreError}. The injected client is the caller's to destroy. */
  async close(): Promise<void> {
    this.#table.close();
  }

  // ---------------------------------------------------------------------------------------------------
  // helpers

  #expiresAt(): number | undefined {
    if (this.#retentionSeconds === undefined) return undefined;
    return Math.floor(this.#now().getTime() / 1000) + this.#retentionSeconds;
  }

  #getMessageItem(id: string): Promise<MessageItem | null> {
    return this.#table.get<MessageItem>(`read message ${id}`, itemKey(keys.message(id), keys.messageRecord));
  }

  /** Message records by id (strongly consistent); ids without a record are absent from the map. */
  async #messageItems(ids: readonly string[]): Promise<Map<string, MessageItem>> {
    const unique = [...new Set(ids)];
    const items = await this.#table.batchGet(
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
}
