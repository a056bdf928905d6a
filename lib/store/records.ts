import type { AuthVerdicts } from '../auth/index.ts';
import type { Address, ParsedMessage } from '../message/index.ts';

// The records a message store keeps and answers (the shapes of the HTTP API, see DESIGN.md).

export type MessageStatus = 'received' | 'processing' | 'processed' | 'failed';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dropped' | 'rejected' | 'unrouted';

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
  /** The dev page's read state (local store only; absent elsewhere). */
  read?: boolean;
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
  /** The summary's deliveries, each with its idempotency key and when it last changed (both backends). */
  deliveries: Array<MessageSummary['deliveries'][number] & { key?: string; updatedAt?: string }>;
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
