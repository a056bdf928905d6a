import { createHash, randomBytes } from 'node:crypto';

/**
 * Key values of the message table (see the design note in `dynamo-message-store.ts`). Every value that
 * comes from outside (a Message-ID header, a mailbox name, an idempotency key) goes through
 * {@link keyPart}, so hostile input can neither exceed DynamoDB's key size limits (2048 bytes for a
 * partition key, 1024 for a sort key) nor forge the hashed form of another value.
 */

/** Longest value (UTF-8 bytes) used in a key as it is; longer ones are replaced by their hash. */
const MAX_PLAIN_KEY_BYTES = 400;
const HASHED = '~sha256~';

/** `value`, or `~sha256~<hex>` of it when it is too long for a key or could be mistaken for a hash. */
export function keyPart(value: string): string {
  if (Buffer.byteLength(value, 'utf8') <= MAX_PLAIN_KEY_BYTES && !value.startsWith(HASHED)) return value;
  return HASHED + createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Sort key part that orders by an ISO 8601 time, then by id (the SQLite store's `ORDER BY at, id`). */
export function timeKey(at: string, id: string): string {
  return `${keyPart(at)}#${keyPart(id)}`;
}

export const keys = {
  /** The partition of one message: its record, parse, thread membership, trace and deliveries. */
  message: (id: string) => `MSG#${keyPart(id)}`,
  /** Sort keys inside a message's partition. */
  messageRecord: 'MESSAGE',
  parsedRecord: 'PARSED',
  threadRecord: 'THREAD',
  deliveryPrefix: 'DELIVERY#',
  delivery: (key: string) => `DELIVERY#${keyPart(key)}`,
  tracePrefix: 'TRACE#',
  trace: (order: string) => `TRACE#${order}`,
  /** Idempotency key → message id of a delivery (so `getDelivery(key)` finds the message's partition). */
  deliveryKey: (key: string) => `DLVKEY#${keyPart(key)}`,
  deliveryKeyRecord: 'DLVKEY',
  /** A mailbox's entries, one item per message. */
  mailbox: (mailbox: string) => `MAILBOX#${keyPart(mailbox)}`,
  mailboxEntry: (messageId: string) => `MSG#${keyPart(messageId)}`,
  /** Thread-filing lookups: by header Message-ID, by Outlook Thread-Index root, by subject + participants. */
  byHeaderId: (headerMessageId: string) => `HMID#${keyPart(headerMessageId)}`,
  byThreadIndex: (root: string) => `TIDX#${keyPart(root)}`,
  bySubject: (subjectKey: string) => `SUBJ#${keyPart(subjectKey)}`,
  /** Sort key of a message under `byHeaderId` (the others sort by `timeKey(receivedAt, id)`). */
  lookupMember: (id: string) => `MSG#${keyPart(id)}`,
  /** One sent message: its head item and the chunks of its bytes. */
  outbox: (id: string) => `OUTBOX#${keyPart(id)}`,
  outboxRecord: 'OUTBOX',
  outboxChunkPrefix: (nonce: string) => `RAW#${nonce}#`,
  outboxChunk: (nonce: string, n: number) => `RAW#${nonce}#${String(n).padStart(6, '0')}`,
  /** The listing days of gsi1 `MESSAGES#<day>#<shard>`: one item per day (sort key: the day). */
  listingDays: 'LISTING#MESSAGES',
} as const;

/** A shard number in a key: two digits up to 99, three beyond. */
const shardPart = (shard: number): string => String(shard).padStart(2, '0');

/** GSI partition keys (`gsi1pk` / `gsi2pk`); the sharded ones are explained in `dynamo-index-shards.ts`. */
export const indexKeys = {
  /** gsi1: the messages of one listing day that hash to `shard`, by `receivedAt#id`. */
  messages: (day: string, shard: number) => `MESSAGES#${day}#${shardPart(shard)}`,
  /** gsi1, before sharding: every message, by `receivedAt#id` (still read, see `dynamo-index-shards.ts`). */
  legacyAllMessages: 'MESSAGES',
  /** gsi1: the messages a mailbox holds, by the message's `receivedAt#id`. */
  mailboxMessages: (mailbox: string) => `MAILBOX#${keyPart(mailbox)}`,
  /** gsi1: the members of a thread, by `receivedAt#id`. */
  thread: (threadId: string) => `THREAD#${keyPart(threadId)}`,
  /** gsi1: every outbox entry, by `createdAt#id`. */
  allOutbox: 'OUTBOX',
  /** gsi2: messages not yet processed, or failed, that hash to `shard` (sparse: processed ones leave). */
  unfinished: (shard: number) => `STATUS#unfinished#${shardPart(shard)}`,
  failed: (shard: number) => `STATUS#failed#${shardPart(shard)}`,
  /** gsi2, before sharding (still read, see `dynamo-index-shards.ts`). */
  legacyUnfinished: 'STATUS#unfinished',
  legacyFailed: 'STATUS#failed',
  /** gsi2: the outbox entries replying to one message, by `createdAt#id`. */
  outboxReplies: (inReplyTo: string) => `OUTBOX#${keyPart(inReplyTo)}`,
} as const;

/**
 * Makes sort-key strings that order the way calls were made: milliseconds since the epoch, a counter
 * that never goes back within this process (even if the clock does), and a random suffix so two writers
 * (two Lambda instances) never produce the same key at the same moment.
 */
export class OrderKeys {
  #lastMs = 0;
  #seq = 0;
  readonly #suffix = randomBytes(4).toString('hex');

  next(): string {
    const now = Date.now();
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#seq = 0;
    } else {
      this.#seq += 1;
    }
    return `${String(this.#lastMs).padStart(15, '0')}.${String(this.#seq).padStart(6, '0')}.${this.#suffix}`;
  }
}
