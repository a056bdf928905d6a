/**
 * The events the processor announces (to EventBridge when `MAILROOM_EVENT_BUS` is set): `mailroom.received`
 * once when a message is first recorded, `mailroom.routed` after each processing run with its outcome.
 * The processor only sees the {@link EmitEvents} port; `event-bridge-emitter.ts` implements it with the SDK.
 */
import type { DeliveryStatus, MessageStatus } from '../store/types.ts';

/** `detail` of `mailroom.received`. */
export interface ReceivedEventDetail {
  id: string;
  /** `smtp` (self-hosted ingress) or `ses`. */
  origin: 'smtp' | 'ses';
  receivedAt: string;
  envelope: { mailFrom: string; rcptTo: string[] };
  size: number;
}

/** `detail` of `mailroom.routed`. */
export interface RoutedEventDetail {
  id: string;
  /** `processed`, or `failed` when a delivery failed (SQS delivers the message again). */
  status: MessageStatus;
  receivedAt: string;
  envelope: { mailFrom: string; rcptTo: string[] };
  subject: string | null;
  from: { address: string; name: string } | null;
  deliveries: Array<{
    recipient: string;
    route: string;
    action: string;
    mailbox?: string;
    status: DeliveryStatus;
    error?: string;
  }>;
}

export type MailroomEvent =
  | { detailType: 'mailroom.received'; detail: ReceivedEventDetail }
  | { detailType: 'mailroom.routed'; detail: RoutedEventDetail };

/** Publishes events; rejects when any was not accepted. */
export type EmitEvents = (events: MailroomEvent[]) => Promise<void>;
