import { describe, expect, it } from 'vitest';
import * as cdk from '../../cdk/mailroom-metrics.ts';
import * as emitted from '../../lib/aws/observability/metric-names.ts';

describe('metric names: what Mailroom emits is what the alarms and the dashboard read', () => {
  it('has the same namespace, services and metric names on both sides', () => {
    expect(emitted.METRICS_NAMESPACE).toBe(cdk.METRICS_NAMESPACE);
    expect(emitted.PROCESSOR_SERVICE).toBe(cdk.PROCESSOR_SERVICE);
    expect(emitted.SMTP_SERVICE).toBe(cdk.SMTP_SERVICE);
    expect(emitted.MailroomMetric).toEqual(cdk.MailroomMetric);
  });
});
