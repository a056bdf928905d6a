import type { AuthVerdicts } from '../auth/verdicts.ts';
import type { ParsedMessage } from '../message/types.ts';
import type { Envelope } from './types.ts';

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

/** The JSON body Mailroom POSTs to a webhook. */
export interface WebhookPayload {
  type: 'message.received';
  /** The delivery's idempotency key, equal to the `webhook-id` header: deduplicate on it. */
  id: string;
  /** ISO 8601 time of this attempt. */
  timestamp: string;
  data: DeliveryEventData & {
    message: ParsedMessage;
    /** SPF/DKIM/DMARC/ARC verdicts computed by Mailroom (never taken from the message's headers). */
    auth: AuthVerdicts;
  };
}
