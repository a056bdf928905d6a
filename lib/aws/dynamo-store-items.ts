/**
 * The shapes of the `DynamoMessageStore`'s items (as unmarshalled). They read as store records through the
 * shared mapping (`lib/store/stored-records.ts`), which message and delivery items fit as they are. The
 * table layout is described in `dynamo-message-store.ts`.
 */
import type { Address } from '../message/index.ts';
import type { DeliveryStatus, MessageStatus } from '../store/index.ts';

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
