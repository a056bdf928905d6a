import { describe, expect, it } from 'vitest';
import type { DeliveryMetricName, MetricsPort } from '../../../lib/aws/observability/metric-names.ts';
import { pipelineMetrics } from '../../../lib/aws/observability/pipeline-metrics.ts';
import type { DeliveryEventData, PipelineEvent } from '../../../lib/pipeline/index.ts';

function recorder() {
  const added: Array<[string, string | null, number]> = [];
  const port: MetricsPort = {
    add: (name, value) => void added.push([name, null, value]),
    addForAction: (name: DeliveryMetricName, action, value) => void added.push([name, action, value]),
    flush: () => {},
  };
  return { port, added };
}

const delivery = (over: Partial<DeliveryEventData>): PipelineEvent => ({
  type: 'delivery.updated',
  id: 'm1',
  at: '2026-01-01T00:00:02.500Z',
  delivery: {
    key: 'k',
    recipient: 'a@x',
    recipients: ['a@x'],
    route: 'r',
    action: 'webhook',
    status: 'pending',
    attempts: 1,
    ...over,
  },
});

describe('pipelineMetrics', () => {
  it('reads deliveries: success with its latency, permanent failure, retryable failure; nothing else', () => {
    const { port, added } = recorder();
    const observe = pipelineMetrics(port);
    const receivedAt = '2026-01-01T00:00:00.000Z';
    observe(delivery({ status: 'delivered' }), receivedAt);
    observe(delivery({ status: 'failed', retryable: false }), receivedAt);
    observe(delivery({ status: 'failed', retryable: true }), receivedAt);
    observe(delivery({ status: 'unrouted', action: 'none' }), receivedAt);
    observe(delivery({ status: 'dropped', action: 'drop' }), receivedAt);
    observe(delivery({ status: 'delivered', action: 'mailbox' }), undefined);
    expect(added).toEqual([
      ['DeliveriesSucceeded', 'webhook', 1],
      ['ReceiptToDeliveryMs', 'webhook', 2500],
      ['DeliveriesFailed', 'webhook', 1],
      ['DeliveryRetries', 'webhook', 1],
      ['DeliveriesSucceeded', 'mailbox', 1],
    ]);
  });

  it('counts messages received and processed, not failed ones', () => {
    const { port, added } = recorder();
    const observe = pipelineMetrics(port);
    const at = '2026-01-01T00:00:00.000Z';
    observe({ type: 'message.received', id: 'm1', at, envelope: { mailFrom: '', rcptTo: [] }, size: 1 }, at);
    observe({ type: 'message.processed', id: 'm1', at }, at);
    observe({ type: 'message.failed', id: 'm2', at }, at);
    expect(added).toEqual([
      ['MessagesReceived', null, 1],
      ['MessagesProcessed', null, 1],
    ]);
  });
});
