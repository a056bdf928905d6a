import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';
import type { PayloadAttachment } from './attachment-access.ts';

/** What every delivery event says of its delivery: webhook payloads, `lambda()` and `eventBridge()` events. */
export interface DeliveryEventData {
  /** Mailroom's id of the stored message. */
  id: string;
  envelope: Envelope;
  recipient: string;
  recipients: string[];
  route: string;
  params: Record<string, string>;
}

/** The facts of one delivery its events are built from (the fields of an `ActionRun` that say what it is). */
export interface DeliveryFacts {
  /** Mailroom's id of the stored message. */
  messageId: string;
  envelope: Envelope;
  /** The first of `recipients`. */
  recipient: string;
  /** Every envelope recipient this delivery serves. */
  recipients: string[];
  message: ParsedMessage;
  /** The message's authentication verdicts. */
  auth: AuthVerdicts;
  params: Record<string, string>;
  raw: Buffer;
  /** Route name. */
  route: string;
  /** The delivery key: stable across retries and re-processing. */
  idempotencyKey: string;
}

/** The JSON body Mailroom POSTs to a webhook. */
export interface WebhookPayload {
  type: 'message.received';
  /** The delivery's idempotency key, equal to the `webhook-id` header: deduplicate on it. */
  id: string;
  /** ISO 8601 time of this attempt. */
  timestamp: string;
  data: DeliveryEventData & {
    /** The parsed message; each attachment's `url` is a time-limited absolute URL here (see `urlExpiresAt`). */
    message: Omit<ParsedMessage, 'attachments'> & { attachments: PayloadAttachment[] };
    /** SPF/DKIM/DMARC/ARC verdicts computed by Mailroom (never taken from the message's headers). */
    auth: AuthVerdicts;
  };
}
