/**
 * The events the processor announces (to EventBridge when `MAILROOM_EVENT_BUS` is set), as a projection of
 * the pipeline's own events (`PipelineEvent`, the vocabulary the dev server streams too):
 * `mailroom.received` is `message.received` with the ingress it came through, once when a message is first
 * recorded; `mailroom.routed` is the end of a processing run (`message.processed`, `message.failed`, or a
 * run stopped early or rescheduled) with its outcome; `mailroom.delivery.failed` is `delivery.failed`: a
 * delivery failed for good (a permanent error, or its retry window ran out). The processor only sees the {@link EmitEvents} port;
 * `event-bridge-emitter.ts` implements it with the SDK.
 */
import type { MessageInput, PipelineEvent, ProcessOutcome } from '../pipeline/index.ts';
import type { DeliveryStatus, MessageStatus } from '../store/index.ts';

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

/** `detail` of `mailroom.delivery.failed`: a delivery failed for good (permanent error or retries over). */
export interface DeliveryFailedEventDetail {
  id: string;
  /** The delivery's idempotency key (what `mailroom replay` runs again). */
  key: string;
  recipient: string;
  route: string;
  action: string;
  mailbox?: string;
  attempts: number;
  error?: string;
  /** True for a permanent error (a webhook 4xx, a config error); false when the retry window ran out. */
  permanent: boolean;
}

export type MailroomEvent =
  | { detailType: 'mailroom.received'; detail: ReceivedEventDetail }
  | { detailType: 'mailroom.routed'; detail: RoutedEventDetail }
  | { detailType: 'mailroom.delivery.failed'; detail: DeliveryFailedEventDetail };

/** Publishes events; rejects when any was not accepted. */
export type EmitEvents = (events: MailroomEvent[]) => Promise<void>;

/** `mailroom.received` of a pipeline `message.received` event. */
export function receivedEvent(
  event: Extract<PipelineEvent, { type: 'message.received' }>,
  origin: ReceivedEventDetail['origin'],
): MailroomEvent {
  const { id, at, envelope, size } = event;
  return {
    detailType: 'mailroom.received',
    detail: {
      id,
      origin,
      receivedAt: at,
      envelope: { mailFrom: envelope.mailFrom, rcptTo: [...envelope.rcptTo] },
      size,
    },
  };
}

/** `mailroom.routed` of a processing run's outcome. */
export function routedEvent(input: MessageInput, outcome: ProcessOutcome): MailroomEvent {
  const deliveries = outcome.deliveries.map((d) => {
    const out: RoutedEventDetail['deliveries'][number] = {
      recipient: d.recipient,
      route: d.route,
      action: d.action,
      status: d.status,
    };
    if (d.mailbox !== undefined) out.mailbox = d.mailbox;
    if (d.error !== undefined) out.error = d.error;
    return out;
  });
  const from = outcome.message?.from;
  return {
    detailType: 'mailroom.routed',
    detail: {
      id: outcome.id,
      status: outcome.status,
      receivedAt: input.receivedAt,
      envelope: { mailFrom: input.envelope.mailFrom, rcptTo: [...input.envelope.rcptTo] },
      subject: outcome.message?.subject ?? null,
      from: from ? { address: from.address, name: from.name } : null,
      deliveries,
    },
  };
}

/** `mailroom.delivery.failed` of a pipeline `delivery.failed` event. */
export function deliveryFailedEvent(
  event: Extract<PipelineEvent, { type: 'delivery.failed' }>,
): MailroomEvent {
  const { delivery: d } = event;
  const detail: DeliveryFailedEventDetail = {
    id: event.id,
    key: d.key,
    recipient: d.recipient,
    route: d.route,
    action: d.action,
    attempts: d.attempts,
    permanent: event.permanent,
  };
  if (d.mailbox !== undefined) detail.mailbox = d.mailbox;
  if (d.error !== undefined) detail.error = d.error;
  return { detailType: 'mailroom.delivery.failed', detail };
}
