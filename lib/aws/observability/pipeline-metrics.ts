import type { PipelineEvent } from '../../pipeline/index.ts';
import type { MetricsPort } from './metric-names.ts';

/**
 * Sees one pipeline event of a message whose receipt time is `receivedAt` (ISO 8601; the driver knows it
 * for a message processed again, when no `message.received` comes).
 */
export type PipelineObserver = (event: PipelineEvent, receivedAt: string | undefined) => void;

/**
 * The processor's metrics, read off the pipeline's events:
 * - `message.received` → `MessagesReceived`; `message.processed` → `MessagesProcessed`;
 * - `delivery.updated` `delivered` → `DeliveriesSucceeded` and `ReceiptToDeliveryMs` (from the message's
 *   receipt to this delivery);
 * - `delivery.updated` `failed`: `DeliveriesFailed` when the failure was permanent; else
 *   `DeliveryRetries`, since the queue delivers the message again (only its undelivered actions run).
 * Other statuses (`dropped`, `rejected`, `unrouted`, `pending`) deliver nothing and count nothing.
 */
export function pipelineMetrics(metrics: MetricsPort): PipelineObserver {
  return (event, receivedAt) => {
    switch (event.type) {
      case 'message.received':
        metrics.add('MessagesReceived', 1);
        return;
      case 'message.processed':
        metrics.add('MessagesProcessed', 1);
        return;
      case 'delivery.updated': {
        const { status, action, retryable } = event.delivery;
        if (status === 'delivered') {
          metrics.addForAction('DeliveriesSucceeded', action, 1);
          const since = receivedAt === undefined ? Number.NaN : Date.parse(event.at) - Date.parse(receivedAt);
          if (Number.isFinite(since)) metrics.addForAction('ReceiptToDeliveryMs', action, Math.max(0, since));
        } else if (status === 'failed') {
          metrics.addForAction(retryable === false ? 'DeliveriesFailed' : 'DeliveryRetries', action, 1);
        }
        return;
      }
      default:
        return;
    }
  };
}
