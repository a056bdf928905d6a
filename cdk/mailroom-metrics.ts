import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * The metrics Mailroom emits (CloudWatch embedded metric format, through Powertools Metrics in the
 * processor and EMF lines on stdout from `mailroom smtp`), as the alarms and the dashboard read them.
 * Every metric carries the `service` dimension; the delivery metrics also carry `action`.
 */
// The names are the processor's own (lib/aws/observability/metric-names.ts): one list for emitting and reading.
import {
  MailroomMetric,
  type MailroomMetricName,
  METRICS_NAMESPACE,
  PROCESSOR_SERVICE,
  SMTP_SERVICE,
} from '../lib/aws/observability/metric-names.ts';

export { MailroomMetric, type MailroomMetricName, METRICS_NAMESPACE, PROCESSOR_SERVICE, SMTP_SERVICE };

/**
 * Values of the `action` dimension: the kinds of action that make deliveries (`reject` and `drop` are
 * decided at routing and deliver nothing).
 */
export const DELIVERY_ACTION_KINDS = [
  'mailbox',
  'handler',
  'webhook',
  'lambda',
  'eventBridge',
  'forward',
] as const;
export type DeliveryActionKind = (typeof DELIVERY_ACTION_KINDS)[number];

/** One Mailroom metric of `service` (and `action`, for the delivery metrics). */
export function mailroomMetric(
  metricName: MailroomMetricName,
  options: {
    readonly service?: string;
    readonly action?: DeliveryActionKind;
    readonly statistic?: string;
    readonly period?: Duration;
    readonly label?: string;
  } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: {
      service: options.service ?? PROCESSOR_SERVICE,
      ...(options.action ? { action: options.action } : {}),
    },
    statistic: options.statistic ?? cloudwatch.Stats.SUM,
    period: options.period ?? Duration.minutes(5),
    label: options.label,
  });
}

/**
 * The sum over every delivery action kind of a delivery metric (missing series count as 0): what an
 * alarm can watch, since alarms cannot SEARCH.
 */
export function allActions(
  metricName: MailroomMetricName,
  period: Duration,
  label: string,
): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  DELIVERY_ACTION_KINDS.forEach((action, i) => {
    usingMetrics[`m${i}`] = mailroomMetric(metricName, { action, period });
  });
  return new cloudwatch.MathExpression({
    expression: `SUM([${Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(', ')}])`,
    usingMetrics,
    period,
    label,
  });
}

/** One line per `action` value of a delivery metric, whichever actions report (dashboards only). */
export function perAction(
  metricName: MailroomMetricName,
  statistic: string,
  period: Duration,
  label: string,
): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},action,service} MetricName="${metricName}" service="${PROCESSOR_SERVICE}"', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    period,
    label,
  });
}
