/**
 * The metrics Mailroom emits, as the CDK's alarms and dashboard read them (`cdk/mailroom-metrics.ts`
 * imports these names): namespace `Mailroom`, dimension `service`, and `action` on the delivery metrics.
 */
export const METRICS_NAMESPACE = 'Mailroom';

/** `service` of the processing Lambda's metrics. */
export const PROCESSOR_SERVICE = 'mailroom';
/** `service` of `mailroom smtp`'s metrics. */
export const SMTP_SERVICE = 'mailroom-smtp';

/** Metric names; the ones with `action` in their dimension set are in {@link DELIVERY_METRICS}. */
export const MailroomMetric = {
  MessagesReceived: 'MessagesReceived',
  MessagesProcessed: 'MessagesProcessed',
  DeliveriesSucceeded: 'DeliveriesSucceeded',
  DeliveriesFailed: 'DeliveriesFailed',
  DeliveryRetries: 'DeliveryRetries',
  ReceiptToDeliveryMs: 'ReceiptToDeliveryMs',
} as const;
export type MailroomMetricName = (typeof MailroomMetric)[keyof typeof MailroomMetric];

/** Metrics whose dimension set is `[service, action]` (the others have `[service]`). */
export type DeliveryMetricName = Exclude<MailroomMetricName, 'MessagesReceived' | 'MessagesProcessed'>;

export type MetricUnitName = 'Count' | 'Milliseconds';

/**
 * Where metrics go: Powertools Metrics (EMF) in the Lambda, an EMF line writer in `mailroom smtp`, or a
 * test's recorder. The processing core never sees it: drivers feed it from the pipeline's events.
 */
export interface MetricsPort {
  /** A message-level metric (dimension set `[service]`). */
  add(name: 'MessagesReceived' | 'MessagesProcessed', value: number): void;
  /** A delivery metric (dimension set `[service, action]`). */
  addForAction(name: DeliveryMetricName, action: string, value: number): void;
  /** Writes what was added since the last flush (nothing when nothing was). */
  flush(): void;
}

/** The unit of a metric. */
export function unitOf(name: MailroomMetricName): MetricUnitName {
  return name === 'ReceiptToDeliveryMs' ? 'Milliseconds' : 'Count';
}
