import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type DeliveryMetricName,
  type MailroomMetricName,
  METRICS_NAMESPACE,
  type MetricsPort,
  unitOf,
} from './metric-names.ts';

/** What was added since the last flush, for one value of `action` ('' for the message metrics). */
interface Pending {
  counts: Map<MailroomMetricName, number>;
  durations: Map<MailroomMetricName, number[]>;
}

/**
 * Metrics as CloudWatch embedded metric format lines on stdout, written by Powertools Metrics: the
 * Lambda's log group (or the Fargate task's, through the awslogs driver) turns them into metrics.
 *
 * Counts are summed until {@link MetricsPort.flush} (one value per metric and line, however many
 * messages), durations kept as a list of values. A flush writes one line for the message metrics
 * (dimensions `service`) and one per `action` (dimensions `service`, `action`); nothing when nothing
 * was added.
 */
export class EmfMetrics implements MetricsPort {
  readonly #service: string;
  readonly #pending = new Map<string, Pending>();

  /** @param service the `service` dimension: `mailroom` (processor) or `mailroom-smtp`. */
  constructor(service: string) {
    this.#service = service;
  }

  #bucket(action: string): Pending {
    let p = this.#pending.get(action);
    if (!p) {
      p = { counts: new Map(), durations: new Map() };
      this.#pending.set(action, p);
    }
    return p;
  }

  #put(name: MailroomMetricName, action: string, value: number): void {
    const p = this.#bucket(action);
    if (unitOf(name) === 'Count') p.counts.set(name, (p.counts.get(name) ?? 0) + value);
    else p.durations.set(name, [...(p.durations.get(name) ?? []), value]);
  }

  add(name: 'MessagesReceived' | 'MessagesProcessed', value: number): void {
    this.#put(name, '', value);
  }

  addForAction(name: DeliveryMetricName, action: string, value: number): void {
    this.#put(name, action, value);
  }

  flush(): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [action, p] of pending) {
      const metrics = new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: this.#service,
        ...(action ? { defaultDimensions: { action } } : {}),
      });
      for (const [name, value] of p.counts) metrics.addMetric(name, MetricUnit.Count, value);
      for (const [name, values] of p.durations) {
        for (const value of values) metrics.addMetric(name, MetricUnit.Milliseconds, value);
      }
      metrics.publishStoredMetrics();
    }
  }
}
