import type { Envelope } from '../actions/types.ts';
import type { Address, ParsedMessage } from '../message/types.ts';

export type MessageStatus = 'received' | 'processing' | 'processed' | 'failed';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dropped' | 'rejected' | 'unrouted';

export interface RawPutOptions {
  /**
   * The SMTP envelope, kept durably with the bytes (never inside them) so that a message whose record was
   * lost in a crash is still routed by its real envelope, Bcc recipients included.
   */
  envelope?: Envelope;
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
  envelope: { mailFrom: string; rcptTo: string[] };
  subject: string | null;
  from: Address | null;
  status: MessageStatus;
  size: number;
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
  auth: Record<string, unknown> | null;
  trace: TraceEntry[];
}

export interface MailboxEntry {
  mailbox: string;
  messageId: string;
  data: Record<string, unknown> | null;
  createdAt: string;
}

/** Records of messages, deliveries, mailboxes and traces. */
export interface MessageStore {
  /** Records a message as received. Idempotent on id. */
  recordReceived(rec: { id: string; receivedAt: string; envelope: Envelope; size: number }): Promise<void>;
  /** Saves the parse result and the fields the summary shows. */
  saveParsed(id: string, parsed: ParsedMessage): Promise<void>;
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
  /** Ids whose status is not `processed` or `failed` (crash recovery). */
  listUnfinished(): Promise<string[]>;
  /** Ids with status `failed`. */
  listFailed(): Promise<string[]>;
  /** Ids known to the store (to find raw files that never got a record). */
  hasMessage(id: string): Promise<boolean>;
  close(): Promise<void>;
}
