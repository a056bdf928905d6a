// The SQLite store's rows (see `sqlite-schema.ts`) and their columns renamed into the shapes of
// `stored-records.ts`, which decides how they read as records.
import type { Address, ParsedMessage } from '../message/index.ts';
import type { DeliveryRecord, DeliveryStatus, MessageStatus } from './records.ts';
import {
  json,
  type StoredDelivery,
  type StoredMailboxEntry,
  type StoredMessage,
  storedDelivery,
} from './stored-records.ts';

export interface MessageRow {
  id: string;
  received_at: string;
  mail_from: string;
  rcpt_to: string;
  size: number;
  status: string;
  subject: string | null;
  from: string | null;
  thread_id: string | null;
  remote_address: string | null;
  helo: string | null;
  /** 1 when the dev page marked it read. */
  read: number;
  parsed?: string | null;
  auth?: string | null;
}

export interface DeliveryRow {
  key: string;
  message_id: string;
  recipient: string;
  recipients: string;
  route: string;
  action: string;
  target: string | null;
  mailbox: string | null;
  params: string;
  status: string;
  attempts: number;
  error: string | null;
  updated_at: string;
}

export interface OutboxRow {
  id: string;
  message_id: string | null;
  header_message_id: string;
  created_at: string;
  envelope: string;
  subject: string | null;
  transport: string;
  raw?: Buffer;
  size?: number;
}

export interface MailboxRow {
  mailbox: string;
  message_id: string;
  data: string | null;
  created_at: string;
}

/** The columns of a message summary (table alias `m`). */
export const SUMMARY_COLUMNS =
  'm.id, m.received_at, m.mail_from, m.rcpt_to, m.size, m.status, m.subject, m."from", m.thread_id, m.remote_address, m.helo, m.read';

export function storedMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    receivedAt: row.received_at,
    mailFrom: row.mail_from,
    rcptTo: json<string[]>(row.rcpt_to, []),
    size: row.size,
    status: row.status as MessageStatus,
    remoteAddress: row.remote_address,
    helo: row.helo,
    subject: row.subject,
    from: json<Address | null>(row.from, null),
    threadId: row.thread_id,
  };
}

export function storedDeliveryOfRow(row: DeliveryRow): StoredDelivery {
  return {
    key: row.key,
    messageId: row.message_id,
    recipient: row.recipient,
    recipients: json<string[]>(row.recipients, [row.recipient]),
    route: row.route,
    action: row.action,
    target: row.target,
    mailbox: row.mailbox,
    params: row.params,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    error: row.error,
    updatedAt: row.updated_at,
  };
}

/** The named parameters of a delivery's row (`@key`, `@messageId`, …). */
export function deliveryParameters(d: DeliveryRecord): Record<string, string | number | null> {
  const s = storedDelivery(d);
  return {
    ...s,
    recipients: JSON.stringify(s.recipients),
    target: s.target ?? null,
    mailbox: s.mailbox ?? null,
    error: s.error ?? null,
  };
}

export function storedMailboxEntry(row: MailboxRow): StoredMailboxEntry {
  return { mailbox: row.mailbox, messageId: row.message_id, data: row.data, createdAt: row.created_at };
}

/**
 * A parse as `message_parses` keeps it: the reply's text is left out when it is the whole `text`, trimmed
 * (a message that quotes nothing, which is most new mail); for a big text message that halves what is
 * written.
 */
export function storedParseJson(parsed: ParsedMessage): string {
  if (parsed.text === null || parsed.reply?.text !== parsed.text.trim()) return JSON.stringify(parsed);
  const { text: _same, ...reply } = parsed.reply;
  return JSON.stringify({ ...parsed, reply });
}

/** The parse kept by {@link storedParseJson}, with the reply's text back; null when absent or damaged. */
export function parseOfStored(text: string | null | undefined): ParsedMessage | null {
  const parsed = json<ParsedMessage | null>(text, null);
  if (parsed?.reply && typeof parsed.reply === 'object' && parsed.reply.text === undefined) {
    parsed.reply = { ...parsed.reply, text: (parsed.text ?? '').trim() };
  }
  return parsed;
}
