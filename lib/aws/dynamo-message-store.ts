/**
 * {@link MessageStore} on one DynamoDB table (single-table design), with the semantics of the SQLite store:
 * the threading policy and the record mapping are the shared ones (`lib/store/thread-filing.ts`,
 * `lib/store/stored-records.ts`); the classes here implement their primitives, one per aggregate.
 *
 * ## Items
 *
 * | item | `pk` | `sk` | `gsi1pk` / `gsi1sk` | `gsi2pk` / `gsi2sk` |
 * |---|---|---|---|---|
 * | message record | `MSG#<id>` | `MESSAGE` | `MESSAGES#<day>#<shard>` / `<receivedAt>#<id>` | `STATUS#unfinished#<shard>` or `STATUS#failed#<shard>` (absent once processed) / `<receivedAt>#<id>` |
 * | listing day | `LISTING#MESSAGES` | `<day>` (shard counts: `shards`) | – | – |
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
 * - `listMessages`: gsi1 `MESSAGES#<day>#<shard>`, newest first: the listing days newest first, each day's
 *   shards queried in parallel and merged (`dynamo-message-listing.ts`); with a mailbox, gsi1 `MAILBOX#<mailbox>` (the mailbox
 *   entries, sorted by their message's arrival) and a consistent BatchGetItem of the message records.
 *   Deliveries: one Query per listed message, in parallel.
 * - `listThread`: gsi1 `THREAD#<threadId>`, oldest first, then a BatchGetItem of the records.
 * - `listUnfinished` / `listFailed`: gsi2, a sparse index that holds only messages not yet processed
 *   (or failed), every shard merged oldest first, so it stays small however many messages are kept.
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
 * DynamoDB serves about 1000 writes per second per key value, and each message record is written about
 * five times while it is processed: the listings of every message are spread over `indexShards` keys
 * (per day on gsi1), see `dynamo-index-shards.ts` for the arithmetic and the pre-sharding keys still read.
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
 * Files: one per aggregate (`dynamo-records.ts`, `dynamo-deliveries.ts`, `dynamo-mailboxes.ts`,
 * `dynamo-threads.ts`, `dynamo-outbox.ts`) on what they share (`dynamo-store-context.ts`); key values in
 * `dynamo-keys.ts`, the sharded listings in `dynamo-index-shards.ts` and `dynamo-message-listing.ts`, item
 * shapes in `dynamo-store-items.ts`, the requests (error wrapping, conditional writes, batched reads) in
 * `dynamo-table.ts`, the parse encoding in `dynamo-parsed-codec.ts`.
 *
 * No multi-item transactions (dynalite, the emulator the tests use, has none), and none are needed: writes
 * that touch several items are ordered so that an interrupted call, repeated (the pipeline repeats
 * work on failure), completes it.
 */
import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';
import type {
  DeliveryRecord,
  MailboxEntry,
  MessageDetail,
  MessageQuery,
  MessageStatus,
  MessageStore,
  MessageSummary,
  OutboxEntry,
  OutboxSummary,
} from '../store/index.ts';
import { DynamoDeliveries } from './dynamo-deliveries.ts';
import { DynamoMailboxes } from './dynamo-mailboxes.ts';
import { DynamoOutbox } from './dynamo-outbox.ts';
import { DynamoMessageRecords } from './dynamo-records.ts';
import { type DynamoMessageStoreOptions, DynamoStoreContext } from './dynamo-store-context.ts';
import { DynamoThreads } from './dynamo-threads.ts';
import type { DeliveryRetryState } from './retry-schedule.ts';

export type { DynamoMessageStoreOptions } from './dynamo-store-context.ts';

/** The DynamoDB {@link MessageStore}: its aggregates on one table; see the design note at the top of this file. */
export class DynamoMessageStore implements MessageStore {
  readonly #context: DynamoStoreContext;
  readonly #records: DynamoMessageRecords;
  readonly #deliveries: DynamoDeliveries;
  readonly #mailboxes: DynamoMailboxes;
  readonly #threads: DynamoThreads;
  readonly #outbox: DynamoOutbox;

  constructor(options: DynamoMessageStoreOptions) {
    this.#context = new DynamoStoreContext(options);
    this.#records = new DynamoMessageRecords(this.#context);
    this.#deliveries = new DynamoDeliveries(this.#context);
    this.#mailboxes = new DynamoMailboxes(this.#context);
    this.#threads = new DynamoThreads(this.#context);
    this.#outbox = new DynamoOutbox(this.#context);
  }

  recordReceived(rec: { id: string; receivedAt: string; envelope: Envelope; size: number }): Promise<void> {
    return this.#records.recordReceived(rec);
  }
  saveAuth(id: string, auth: AuthVerdicts | null): Promise<void> {
    return this.#records.saveAuth(id, auth);
  }
  setStatus(id: string, status: MessageStatus): Promise<void> {
    return this.#records.setStatus(id, status);
  }
  addTrace(id: string, step: string, detail: string): Promise<void> {
    return this.#records.addTrace(id, step, detail);
  }
  getMessage(id: string): Promise<MessageDetail | null> {
    return this.#records.getMessage(id);
  }
  listMessages(opts?: MessageQuery): Promise<MessageSummary[]> {
    return this.#records.listMessages(opts);
  }
  listUnfinished(): Promise<string[]> {
    return this.#records.listUnfinished();
  }
  listFailed(opts?: { receivedSince?: string }): Promise<string[]> {
    return this.#records.listFailed(opts);
  }
  hasMessage(id: string): Promise<boolean> {
    return this.#records.hasMessage(id);
  }

  saveParsed(id: string, parsed: ParsedMessage): Promise<{ threadId: string }> {
    return this.#threads.saveParsed(id, parsed);
  }
  listThread(threadId: string, opts?: { limit?: number; before?: string }): Promise<MessageSummary[]> {
    return this.#threads.listThread(threadId, opts);
  }

  getDelivery(key: string): Promise<DeliveryRecord | null> {
    return this.#deliveries.getDelivery(key);
  }
  putDelivery(d: DeliveryRecord): Promise<void> {
    return this.#deliveries.putDelivery(d);
  }
  /** Every delivery of one message, in creation order. */
  listDeliveries(messageId: string): Promise<DeliveryRecord[]> {
    return this.#deliveries.listDeliveries(messageId);
  }
  /** The processor's retry state of a delivery (see `retry-schedule.ts`); null when it has none. */
  getDeliveryRetry(messageId: string, key: string): Promise<DeliveryRetryState | null> {
    return this.#deliveries.getRetryState(messageId, key);
  }
  putDeliveryRetry(messageId: string, key: string, state: DeliveryRetryState): Promise<void> {
    return this.#deliveries.putRetryState(messageId, key, state);
  }

  putMailboxEntry(entry: MailboxEntry): Promise<boolean> {
    return this.#mailboxes.putMailboxEntry(entry);
  }
  listMailboxEntries(mailbox: string): Promise<MailboxEntry[]> {
    return this.#mailboxes.listMailboxEntries(mailbox);
  }

  /** One page of a mailbox's entries, newest first, with the next page's cursor (the read API's). */
  mailboxPage(
    mailbox: string,
    opts: { limit: number; before?: string },
  ): Promise<{ entries: Array<MailboxEntry & { receivedAt: string }>; nextCursor: string | null }> {
    return this.#mailboxes.mailboxPage(mailbox, opts);
  }

  putOutboxEntry(entry: OutboxEntry): Promise<boolean> {
    return this.#outbox.putOutboxEntry(entry);
  }
  getOutboxEntry(id: string): Promise<OutboxEntry | null> {
    return this.#outbox.getOutboxEntry(id);
  }
  listOutbox(opts?: { inReplyTo?: string; limit?: number }): Promise<OutboxSummary[]> {
    return this.#outbox.listOutbox(opts);
  }

  /** Later calls fail with a {@link DynamoStoreError}. The injected client is the caller's to destroy. */
  async close(): Promise<void> {
    this.#context.table.close();
  }
}
