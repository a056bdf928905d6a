/**
 * The shapes of the `DynamoMessageStore`'s items (as unmarshalled), and how they read as store records.
 * The table layout is described in `dynamo-message-store.ts`.
 */
import type { Address } from '../message/types.ts';
import type { DeliveryRecord, DeliveryStatus, MessageStatus, MessageSummary } from '../store/types.ts';

export interface MessageItem {
  id: string;
  receivedAt: string;
  mailFrom: string;
  rcptTo: string[];
  size: number;
  status: MessageStatus;
  remoteAddress?: string;
  helo?: string;
  subject?: string | null;
  from?: Address | null;
  threadId?: string;
  headerMessageId?: string;
  threadIndexRoot?: string;
  subjectKey?: string;
  /** AuthVerdicts as JSON. */
  auth?: string;
  /** Epoch seconds (the `TTL_ATTRIBUTE`), when the store keeps records for a limited time. */
  expiresAt?: number;
}

export interface DeliveryItem {
  key: string;
  messageId: string;
  recipient: string;
  recipients: string[];
  route: string;
  action: string;
  target?: string;
  mailbox?: string;
  /** JSON of `params`. */
  params: string;
  status: DeliveryStatus;
  attempts: number;
  error?: string;
  updatedAt: string;
  order: string;
}

export interface MailboxItem {
  mailbox: string;
  messageId: string;
  /** JSON of `data`, or null. */
  data: string | null;
  createdAt: string;
  order: string;
}

export interface OutboxHeadItem {
  id: string;
  messageId: string;
  inReplyTo: string | null;
  envelope: { from: string; to: string[] };
  subject: string | null;
  createdAt: string;
  transport: string;
  size: number;
  chunks: number;
  nonce: string;
}

export interface ParsedItem {
  parsedJson?: string;
  parsedGzip?: Uint8Array;
}

/** Parses JSON written by this store; a damaged value reads as `fallback` rather than failing a listing. */
export function json<T>(text: string | null | undefined, fallback: T): T {
  if (text == null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function toRecord(d: DeliveryItem): DeliveryRecord {
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
  if (d.target !== undefined) rec.target = d.target;
  if (d.mailbox !== undefined) rec.mailbox = d.mailbox;
  if (d.error !== undefined) rec.error = d.error;
  return rec;
}

export function toSummaryDelivery(d: DeliveryItem): MessageSummary['deliveries'][number] {
  const out: MessageSummary['deliveries'][number] = {
    recipient: d.recipient,
    route: d.route,
    action: d.action,
    params: json<Record<string, string>>(d.params, {}),
    status: d.status,
    attempts: d.attempts,
  };
  if (d.mailbox !== undefined) out.mailbox = d.mailbox;
  if (d.error !== undefined) out.error = d.error;
  return out;
}

export function toSummary(m: MessageItem, deliveries: DeliveryItem[]): MessageSummary {
  const envelope: MessageSummary['envelope'] = { mailFrom: m.mailFrom, rcptTo: m.rcptTo };
  if (m.remoteAddress !== undefined) envelope.remoteAddress = m.remoteAddress;
  if (m.helo !== undefined) envelope.helo = m.helo;
  return {
    id: m.id,
    receivedAt: m.receivedAt,
    envelope,
    subject: m.subject ?? null,
    from: m.from ?? null,
    status: m.status,
    size: m.size,
    threadId: m.threadId ?? null,
    deliveries: deliveries.map(toSummaryDelivery),
  };
}
