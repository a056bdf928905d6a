import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';
import type {
  DeliveryRecord,
  MailboxEntry,
  MessageDetail,
  MessageStatus,
  MessageSummary,
  OutboxEntry,
  OutboxSummary,
} from './records.ts';

/**
 * Which messages a listing answers. Every backend honours `mailbox`, `limit` and `before`; the filters
 * after them are the local (SQLite) store's, for the dev page: a backend that cannot answer one throws
 * a `StoreError` that says so rather than ignore it.
 */
export interface MessageQuery {
  mailbox?: string;
  limit?: number;
  /** Only messages after this one in the listing's order: `messageCursor(lastRowOfPreviousPage)`. */
  before?: string;
  status?: MessageStatus;
  /** Only messages with a delivery by this route. */
  route?: string;
  /** Only messages with at least one delivery in status `failed`. */
  deliveryFailed?: boolean;
  /** Full text over subject, from, to and the text body (SQLite FTS5 query syntax, words ANDed). */
  search?: string;
}

/** What {@link MessageRecords.recordArrival} writes. */
export interface ArrivalRecord {
  id: string;
  receivedAt: string;
  envelope: Envelope;
  size: number;
  /** The detail of the `received` trace entry. */
  trace: string;
  /** Verdicts the ingress computed, if it did. */
  auth: AuthVerdicts | null;
}

// The ports of the message store, one per aggregate it holds. A caller that needs only one of them (the
// outbox of `ctx.reply`, the delivery ledger of the executor) can ask for just that port; `MessageStore`
// is all of them, as both backends (SQLite, DynamoDB) implement it.

/** Message records: arrival, status, authentication, trace, and the listings built from them. */
export interface MessageRecords {
  /**
   * Optional: true when the store applies its writes in the order they are called, each before any later
   * write or read of this store object takes effect (SQLite: one connection's queue). A caller may then go
   * on without waiting for a write whose failure it only logs (a trace entry): it lands before the next;
   * and it may hold relaxed writes back to hand them over with a later one, so that they commit together
   * (processing's `RunWrites`, which reports their failures before any delivery runs).
   * @default false
   */
  readonly ordersWrites?: boolean;
  /** Records a message as received. Idempotent on id. */
  recordReceived(rec: { id: string; receivedAt: string; envelope: Envelope; size: number }): Promise<void>;
  /**
   * Optional: records an arrival whose bytes and envelope are already durable in the raw store — the
   * record, its `received` trace entry and the ingress's verdicts — as one write that need not reach the
   * disk by itself: a store may leave it to its next durable write, since after a crash recovery records the
   * message again from the raw store (`Pipeline.recover`). Idempotent on id. Without it the pipeline writes
   * the three apart.
   */
  recordArrival?(arrival: ArrivalRecord): Promise<void>;
  /**
   * Saves the message's authentication verdicts (computed by the pipeline, or mapped from the SES receipt;
   * never read from the message's headers).
   */
  saveAuth(id: string, auth: AuthVerdicts | null): Promise<void>;
  setStatus(id: string, status: MessageStatus): Promise<void>;
  addTrace(id: string, step: string, detail: string): Promise<void>;
  getMessage(id: string): Promise<MessageDetail | null>;
  /** Newest first (`receivedAt`, then id, both descending). */
  listMessages(opts?: MessageQuery): Promise<MessageSummary[]>;
  /** Ids whose status is not `processed` or `failed` (crash recovery). */
  listUnfinished(): Promise<string[]>;
  /**
   * Ids with status `failed`, oldest first.
   * @param opts.receivedSince only messages received at or after this instant (ISO 8601).
   */
  listFailed(opts?: { receivedSince?: string }): Promise<string[]>;
  /** Ids known to the store (to find raw files that never got a record). */
  hasMessage(id: string): Promise<boolean>;
}

/** Delivery records, by idempotency key: what was done (or is pending) for each route and action. */
export interface Deliveries {
  getDelivery(key: string): Promise<DeliveryRecord | null>;
  /**
   * Inserts or replaces the delivery with this key. `relaxed`: the caller can redo what this records
   * without a duplicate effect (its action's effect is in this store, or nothing), so a store that syncs
   * writes to disk may resolve without waiting for that (see `SqliteMessageStore`); others ignore it.
   */
  putDelivery(d: DeliveryRecord, options?: { relaxed?: boolean }): Promise<void>;
  /**
   * Optional: records `d` unless a delivery with its key exists, as `putDelivery` would (same durability),
   * and returns the existing one unchanged, or null when `d` was recorded. One write instead of a read and
   * a write: with a store that orders its writes, it joins the caller's other writes of that moment.
   */
  insertDelivery?(d: DeliveryRecord): Promise<DeliveryRecord | null>;
}

/** Mailbox entries: the messages a `mailbox()` action kept, with a handler's data. */
export interface Mailboxes {
  /** Returns false when the mailbox already held the message (nothing changed). */
  putMailboxEntry(entry: MailboxEntry): Promise<boolean>;
  listMailboxEntries(mailbox: string): Promise<MailboxEntry[]>;
}

/** Threads: each parsed message filed in one (the policy is `thread-filing.ts`). */
export interface Threads {
  /**
   * Saves the parse result and the fields the summary shows, and files the message in a thread: the thread
   * of a message already stored that it references (References, In-Reply-To, its own Message-ID), else of
   * one with the same Outlook Thread-Index root, else, for a reply (`Re:` …) without any reference, of the
   * latest one with the same subject and participants; else `parsed.thread.id`. Messages stored earlier
   * whose thread was rooted at this one's Message-ID move into its thread (replies that came first).
   * @returns the thread id, also saved as `parsed.thread.id`.
   */
  saveParsed(id: string, parsed: ParsedMessage): Promise<{ threadId: string }>;
  /**
   * The messages of one thread, oldest first (`receivedAt`, then id).
   * @param opts.limit @default 500
   */
  listThread(threadId: string, opts?: { limit?: number }): Promise<MessageSummary[]>;
}

/** The outbox: messages Mailroom sent (a handler's `ctx.reply`), with their bytes. */
export interface Outbox {
  /** Keeps a sent message. Returns false (and changes nothing) when an entry with this id exists. */
  putOutboxEntry(entry: OutboxEntry): Promise<boolean>;
  getOutboxEntry(id: string): Promise<OutboxEntry | null>;
  /**
   * Newest first.
   * @param opts.inReplyTo only replies to this message.
   * @param opts.limit @default 100
   */
  listOutbox(opts?: { inReplyTo?: string; limit?: number }): Promise<OutboxSummary[]>;
}

/**
 * What the local (SQLite) store adds for the dev page and retention. Not part of {@link MessageStore}: on
 * AWS, records expire by DynamoDB TTL in step with the S3 lifecycle.
 */
export interface MessageHousekeeping {
  /**
   * Deletes every record of the message (summary, parse, auth, deliveries, trace, mailbox entries, search
   * index; threads lose it). The raw bytes are the raw store's to delete. False when the id is unknown.
   */
  deleteMessage(id: string): Promise<boolean>;
  /** Marks the message read or unread (the dev page's state; summaries carry `read`). */
  setRead(id: string, read: boolean): Promise<void>;
  /** Every mailbox with its number of messages and of unread ones, by name. */
  listMailboxes(): Promise<Array<{ name: string; count: number; unread: number }>>;
  /**
   * Ids of the messages retention removes, oldest first: received before `receivedBefore`, and those
   * beyond the newest `keepNewest`.
   */
  listExpired(opts: { receivedBefore?: string; keepNewest?: number }): Promise<string[]>;
  /**
   * The attachment hashes that some stored message's parse still lists.
   * @param opts.excluding leave these messages out (what would remain once they are deleted).
   */
  referencedAttachments(opts?: { excluding?: readonly string[] }): Promise<Set<string>>;
}

/** Records of messages, deliveries, mailboxes, traces, threads and sent replies: every port, and `close`. */
export interface MessageStore extends MessageRecords, Deliveries, Mailboxes, Threads, Outbox {
  close(): Promise<void>;
}
