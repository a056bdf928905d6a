import type { DeliveryStatus } from '../store/index.ts';

/** What a delivery looks like in a `delivery.updated` event. */
export interface DeliveryEventData {
  key: string;
  recipient: string;
  recipients: string[];
  route: string;
  action: string;
  mailbox?: string;
  status: DeliveryStatus;
  attempts: number;
  error?: string;
  /** On a `failed` delivery: whether a later try may succeed (false: the failure is permanent). */
  retryable?: boolean;
}

/** Emitted by the pipeline (the dev server streams them as server-sent events). */
export type PipelineEvent =
  | {
      type: 'message.received';
      id: string;
      at: string;
      envelope: { mailFrom: string; rcptTo: string[] };
      size: number;
    }
  | { type: 'message.processed'; id: string; at: string }
  | { type: 'message.failed'; id: string; at: string; error?: string }
  | { type: 'delivery.updated'; id: string; at: string; delivery: DeliveryEventData };

export type PipelineEventListener = (event: PipelineEvent) => void;
