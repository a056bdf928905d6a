import type { AuthVerdicts } from '../auth/verdicts.ts';
import type { Envelope } from '../kernel/index.ts';
import type { Address, ParsedMessage } from '../message/types.ts';

export type MessageStatus = 'received' | 'processing' | 'processed' | 'failed';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dropped' | 'rejected' | 'unrouted';

export interface RawPutOptions {
  /**
   * The SMTP envelope, kept durably with the bytes (never inside them) so that a message whose record was
   * lost in a crash is still routed by its real envelope, Bcc recipients included.
   */
  envelope?: Envelope;
  /**
   * The authentication verdicts computed at the end of DATA, kept with the bytes where the store can (the
   * S3 store does, so that processing elsewhere need not repeat the DNS checks). Stores may ignore it.
   */
  auth?: AuthVerdicts;
}

/** Durable storage of raw message bytes. */
export interface RawStore {
  /** Resolves only once the bytes (and the envelope, when given) are durable; rejects otherwise. */
  put(
    id: string,
    data: Buffer | AsyncIterable<Buffer | Uint8Array>,
    options?: RawPutOptions,
  ): Promise<{ size: number }>;
  get(id: string): Promise<Buffer>;
  /** The envelope stored with the message, or null when none was. */
  getEnvelope(id: string): Promise<Envelope | null>;
  /** Ids of every stored message (order unspecified). */
  list(): Promise<string[]>;
}

export interface DeliveryRecord {
  /** Idempotency key: message id + route + action (+ params). Unique. */
  key: string;
  messageId: string;
  recipient: string;
  recipients: string[];
  route: string;
  /** Action kind: mailbox, handler, webhook, drop, reject, none. */
  action: string;
  /** Handler name / webhook URL, for display. */
  target?: string;
  mailbox?: string;
  params: Record<string, string>;
  status: DeliveryStatus;
  attempts: number;
  error?: string;
  updatedAt: string;
}

export interface TraceEntry {
  at: string;
  step: string;
  detail: string;
}

/** The summary shape of the HTTP API (see DESIGN.md). */
export interface MessageSummary {
  id: string;
  receivedAt: string;
  /**
   * The SMTP envelope; `remoteAddress` (the client's IP address) and `helo` (its HELO/EHLO name) only when
   * the message came over SMTP and they were known.
   */
  envelope: { mailFrom: string; rcptTo: string[]; remoteAddress?: string; helo?: string };
  subject: string | null;
  from: Address | null;
  status: MessageStatus;
  size: number;
  /** The thread the store filed the message in (see {@link MessageStore.saveParsed}); null until parsed. */
  threadId: string | null;
  deliveries: Array<{
    recipient: string;
    route: string;
    action: string;
    mailbox?: string;
    params: Record<string, string>;
    status: DeliveryStatus;
    attempts: number;
    error?: string;
  }>;
}

export interface MessageDetail extends MessageSummary {
  parsed: ParsedMessage | null;
  /** The authentication verdicts computed when the message was processed; null until then. */
  auth: AuthVerdicts | null;
  trace: TraceEntry[];
}

export interface MailboxEntry {
  mailbox: string;
  messageId: string;
  data: Record<string, unknown> | null;
  createdAt: string;
}

/** One message sent by Mailroom (a handler's `ctx.reply`), kept in the outbox table. */
export interface OutboxEntry {
  /** URL-safe key (hex), derived from the delivery's idempotency key: one entry per reply, ever. */
  id: string;
  /** The Message-ID header of the sent message, e.g. `<3f…@example.com>`. */
  messageId: string;
  /** Mailroom's id of the message this replies to; null for a message that is not a reply. */
  inReplyTo: string | null;
  /** SMTP envelope it was sent with. */
  envelope: { from: string; to: string[] };
  subject: string | null;
  /** ISO 8601. */
  createdAt: string;
  /** What sent it: `outbox` (kept here only), `smtp`, `ses`, or a custom transport's name. */
  transport: string;
  /** The message bytes as sent. */
  raw: Buffer;
}

/** An {@link OutboxEntry} without its bytes, for listings (`GET /api/outbox`). */
export interface OutboxSummary {
  id: string;
  messageId: string;
  inReplyTo: string | null;
  from: string;
  to: string[];
  subject: string | null;
  createdAt: string;
  transport: string;
  size: number;
}

/** Records of messages, deliveries, mailboxes, traces and sent replies. */
export interface MessageStore {
  /** Records a message as received. Idempotent on id. */
  recordReceived(rec: { id: string; receivedAt: string; envelope: Envelope; size: number }): Promise<void>;
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
   * Saves the message's authentication verdicts (computed by the pipeline, or mapped from the SES receipt;
   * never read from the message's headers).
   */
  saveAuth(id: string, auth: AuthVerdicts | null): Promise<void>;
  setStatus(id: string, status: MessageStatus): Promise<void>;
  getDelivery(key: string): Promise<DeliveryRecord | null>;
  /** Inserts or replaces the delivery with this key. */
  putDelivery(d: DeliveryRecord): Promise<void>;
  /** Returns false when the mailbox already held the message (nothing changed). */
  putMailboxEntry(entry: MailboxEntry): Promise<boolean>;
  listMailboxEntries(mailbox: string): Promise<MailboxEntry[]>;
  addTrace(id: string, step: string, detail: string): Promise<void>;
  getMessage(id: string): Promise<MessageDetail | null>;
  /** Newest first. */
  listMessages(opts?: { mailbox?: string; limit?: number }): Promise<MessageSummary[]>;
  /**
   * The messages of one thread, oldest first (`receivedAt`, then id).
   * @param opts.limit @default 500
   */
  listThread(threadId: string, opts?: { limit?: number }): Promise<MessageSummary[]>;
  /** Keeps a sent message. Returns false (and changes nothing) when an entry with this id exists. */
  putOutboxEntry(entry: OutboxEntry): Promise<boolean>;
  getOutboxEntry(id: string): Promise<OutboxEntry | null>;
  /**
   * Newest first.
   * @param opts.inReplyTo only replies to this message.
   * @param opts.limit @default 100
   */
  listOutbox(opts?: { inReplyTo?: string; limit?: number }): Promise<OutboxSummary[]>;
  /** Ids whose status is not `processed` or `failed` (crash recovery). */
  listUnfinished(): Promise<string[]>;
  /**
   * Ids with status `failed`, oldest first.
   * @param opts.receivedSince only messages received at or after this instant (ISO 8601).
   */
  listFailed(opts?: { receivedSince?: string }): Promise<string[]>;
  /** Ids known to the store (to find raw files that never got a record). */
  hasMessage(id: string): Promise<boolean>;
  close(): Promise<void>;
}
