// How stored rows and items read as the store's records, written once for every backend. A backend only
// renames its columns or attributes into the `Stored…` shapes below (SQLite's `mail_from`, DynamoDB's
// `mailFrom`); every decision (which fields an absent value leaves out, what a damaged JSON value reads as,
// which fields a summary shows, which thread wins) is made here.
import type { AuthVerdicts } from '../auth/index.ts';
import type { Address, ParsedMessage } from '../message/index.ts';
import type {
  DeliveryRecord,
  DeliveryStatus,
  MailboxEntry,
  MessageDetail,
  MessageStatus,
  MessageSummary,
  OutboxSummary,
  TraceEntry,
} from './records.ts';

/** A message record as a backend keeps it; an absent value is null (SQLite) or undefined (DynamoDB). */
export interface StoredMessage {
  id: string;
  receivedAt: string;
  mailFrom: string;
  rcptTo: string[];
  size: number;
  status: MessageStatus;
  remoteAddress?: string | null;
  helo?: string | null;
  subject?: string | null;
  from?: Address | null;
  threadId?: string | null;
}

/** A delivery as a backend keeps it: `params` as JSON, absent values null or undefined. */
export interface StoredDelivery {
  key: string;
  messageId: string;
  recipient: string;
  recipients: string[];
  route: string;
  action: string;
  target?: string | null;
  mailbox?: string | null;
  /** JSON of `params`. */
  params: string;
  status: DeliveryStatus;
  attempts: number;
  error?: string | null;
  updatedAt: string;
}

/** A mailbox entry as a backend keeps it: `data` as JSON, or null. */
export interface StoredMailboxEntry {
  mailbox: string;
  messageId: string;
  data: string | null;
  createdAt: string;
}

/** Parses JSON written by the store; a damaged value reads as `fallback` rather than failing a listing. */
export function json<T>(text: string | null | undefined, fallback: T): T {
  if (text == null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A delivery as stored: `params` as JSON, absent optional fields undefined. */
export function storedDelivery(d: DeliveryRecord): StoredDelivery {
  return {
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
  };
}

export function deliveryRecord(d: StoredDelivery): DeliveryRecord {
  const rec: DeliveryRecord = {
    key: d.key,
    messageId: d.messageId,
    recipient: d.recipient,
    recipients: d.recipients,
    route: d.route,
    action: d.action,
    params: json<Record<string, string>>(d.params, {}),
    status: d.status,
    attempts: d.attempts,
    updatedAt: d.updatedAt,
  };
  if (d.target != null) rec.target = d.target;
  if (d.mailbox != null) rec.mailbox = d.mailbox;
  if (d.error != null) rec.error = d.error;
  return rec;
}

/** What a summary shows of a delivery (no key, message id, target or time). */
function summaryDelivery(d: StoredDelivery): MessageSummary['deliveries'][number] {
  const out: MessageSummary['deliveries'][number] = {
    recipient: d.recipient,
    route: d.route,
    action: d.action,
    params: json<Record<string, string>>(d.params, {}),
    status: d.status,
    attempts: d.attempts,
  };
  if (d.mailbox != null) out.mailbox = d.mailbox;
  if (d.error != null) out.error = d.error;
  return out;
}

/** The summary of a message, with its deliveries in the order given (creation order). */
export function messageSummary(m: StoredMessage, deliveries: readonly StoredDelivery[]): MessageSummary {
  const envelope: MessageSummary['envelope'] = { mailFrom: m.mailFrom, rcptTo: m.rcptTo };
  if (m.remoteAddress != null) envelope.remoteAddress = m.remoteAddress;
  if (m.helo != null) envelope.helo = m.helo;
  return {
    id: m.id,
    receivedAt: m.receivedAt,
    envelope,
    subject: m.subject ?? null,
    from: m.from ?? null,
    status: m.status,
    size: m.size,
    threadId: m.threadId ?? null,
    deliveries: deliveries.map(summaryDelivery),
  };
}

/**
 * The detail of a message. The record's thread wins over the stored parse's: a thread move updates the
 * record, and a backend may leave the parse as it was written.
 */
export function messageDetail(
  summary: MessageSummary,
  stored: {
    parsed: ParsedMessage | null;
    authJson: string | null | undefined;
    trace: TraceEntry[];
    /** The deliveries the summary was built from, in the same order: the detail adds key and updatedAt. */
    deliveries?: readonly StoredDelivery[];
  },
): MessageDetail {
  let parsed = stored.parsed;
  if (parsed && summary.threadId !== null) parsed = { ...parsed, thread: { id: summary.threadId } };
  const records = stored.deliveries;
  const deliveries = records
    ? summary.deliveries.map((d, i) => ({ ...d, key: records[i]!.key, updatedAt: records[i]!.updatedAt }))
    : summary.deliveries;
  const auth = json<AuthVerdicts | null>(stored.authJson, null);
  return { ...summary, deliveries, parsed, auth, trace: stored.trace };
}

/** The data of a mailbox entry as stored (JSON), or null. */
export function storedMailboxData(entry: MailboxEntry): string | null {
  return entry.data ? JSON.stringify(entry.data) : null;
}

export function mailboxEntry(e: StoredMailboxEntry): MailboxEntry {
  return {
    mailbox: e.mailbox,
    messageId: e.messageId,
    data: json<Record<string, unknown> | null>(e.data, null),
    createdAt: e.createdAt,
  };
}

/** What a listing shows of a sent message (its bytes only by size). */
export function outboxSummary(head: {
  id: string;
  messageId: string;
  inReplyTo: string | null | undefined;
  envelope: { from: string; to: string[] };
  subject: string | null | undefined;
  createdAt: string;
  transport: string;
  size: number | null | undefined;
}): OutboxSummary {
  return {
    id: head.id,
    messageId: head.messageId,
    inReplyTo: head.inReplyTo ?? null,
    from: head.envelope.from,
    to: head.envelope.to,
    subject: head.subject ?? null,
    createdAt: head.createdAt,
    transport: head.transport,
    size: head.size ?? 0,
  };
}

/**
 * The paging cursor of a listed message: pass it as `before` to list the messages after it. Opaque to
 * callers (base64url of `receivedAt` and id), the same for every backend.
 */
export function messageCursor(m: Pick<MessageSummary, 'receivedAt' | 'id'>): string {
  return Buffer.from(`${m.receivedAt}\n${m.id}`).toString('base64url');
}

/** The `receivedAt` and id a {@link messageCursor} names; null when it is not one. */
export function parseMessageCursor(cursor: string): { receivedAt: string; id: string } | null {
  const [receivedAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('\n');
  if (rest.length > 0 || !receivedAt || !id || Number.isNaN(Date.parse(receivedAt))) return null;
  return { receivedAt, id };
}
