import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  DELIVERY_ACTION_KINDS,
  MailroomDashboard,
  MailroomPipeline,
  type MailroomPipelineProps,
  MailroomPropsError,
  MailroomStack,
} from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, onlyResource, testStack, thrown } from './support.ts';

function pipeline(props: MailroomPipelineProps = {}) {
  const stack = testStack();
  const construct = new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG, ...props });
  return { stack, construct, template: Template.fromStack(stack) };
}

/** The alarm whose description matches, from the template. */
function alarm(t: Template, description: RegExp): Record<string, unknown> {
  const found = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((r) =>
    description.test(String((r as { Properties: { AlarmDescription: string } }).Properties.AlarmDescription)),
  );
  expect(found).toHaveLength(1);
  return (found[0] as { Properties: Record<string, unknown> }).Properties;
}

describe('MailroomPipeline: safe scale and observability', () => {
  const { template: t, construct } = pipeline();

  it('caps the SQS event source at 10 concurrent invocations by default, and takes maxConcurrency', () => {
    expect(onlyResource(t, 'AWS::Lambda::EventSourceMapping').Properties).toMatchObject({
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const custom = pipeline({ maxConcurrency: 50, reservedConcurrency: 60 }).template;
    expect(onlyResource(custom, 'AWS::Lambda::EventSourceMapping').Properties).toMatchObject({
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    custom.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 60 });
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: Match.absent(),
      Description: Match.stringLikeRegexp('Mailroom'),
    });
  });

  it('refuses a maxConcurrency outside 2–1000 and a reservedConcurrency below it', () => {
    const stack = testStack();
    const error = thrown(
      () =>
        new MailroomPipeline(stack, 'Pipeline', {
          configFile: EXAMPLE_CONFIG,
          maxConcurrency: 1,
          reservedConcurrency: 0,
        }),
    );
    expect(error).toBeInstanceOf(MailroomPropsError);
    expect((error as MailroomPropsError).problems).toEqual([
      "maxConcurrency must be an integer from 2 to 1000 (the SQS event source's limits), got 1",
      'reservedConcurrency must be a positive integer, got 0',
      "reservedConcurrency (0) must be at least maxConcurrency (1): below it Lambda throttles the queue's invocations",
    ]);
    const over = thrown(() => pipeline({ maxConcurrency: 1001 }));
    expect((over as MailroomPropsError).problems).toEqual([
      "maxConcurrency must be an integer from 2 to 1000 (the SQS event source's limits), got 1001",
    ]);
    const low = thrown(() => pipeline({ maxConcurrency: 20, reservedConcurrency: 10 }));
    expect((low as MailroomPropsError).problems).toEqual([
      "reservedConcurrency (10) must be at least maxConcurrency (20): below it Lambda throttles the queue's invocations",
    ]);
  });

  it('traces the processor with X-Ray (active tracing and the permission to send segments)', () => {
    t.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
            Resource: '*',
          }),
        ]),
      },
    });
  });

  it('gives the processor the Powertools environment: service, metrics namespace and log level', () => {
    const env = (template: Template) => {
      const processor = Object.values(
        template.findResources('AWS::Lambda::Function', {
          Properties: { Description: Match.stringLikeRegexp('^Mailroom: parse') },
        }),
      )[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
      return processor.Properties.Environment.Variables;
    };
    expect(env(t)).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'mailroom',
      POWERTOOLS_METRICS_NAMESPACE: 'Mailroom',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      MAILROOM_LOG_LEVEL: 'info',
    });
    expect(env(pipeline({ processorLogLevel: 'debug' }).template)).toMatchObject({
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      MAILROOM_LOG_LEVEL: 'debug',
    });
    const bad = thrown(() => pipeline({ processorLogLevel: 'verbose' as 'debug' }));
    expect((bad as MailroomPropsError).problems).toEqual([
      'processorLogLevel must be debug, info, warn or error, got "verbose"',
    ]);
  });

  it('alarms on failed deliveries of every action (Mailroom/DeliveriesFailed by service and action)', () => {
    const props = alarm(t, /deliveries failed for good/);
    expect(props).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    const metrics = props.Metrics as {
      Id: string;
      Expression?: string;
      ReturnData?: boolean;
      MetricStat?: {
        Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
        Stat: string;
      };
    }[];
    const expression = metrics.find((m) => m.Expression);
    expect(expression?.Expression).toMatch(/^SUM\(\[FILL\(m0, 0\), .*\]\)$/);
    const watched = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
    expect(watched.map((m) => m.Metric.Dimensions.find((d) => d.Name === 'action')?.Value).sort()).toEqual(
      [...DELIVERY_ACTION_KINDS].sort(),
    );
    for (const stat of watched) {
      expect(stat).toMatchObject({
        Metric: {
          Namespace: 'Mailroom',
          MetricName: 'DeliveriesFailed',
          Dimensions: expect.arrayContaining([{ Name: 'service', Value: 'mailroom' }]),
        },
        Stat: 'Sum',
      });
    }
  });

  it('alarms on backlog age and on the dead-letter queue', () => {
    expect(alarm(t, /waited more than 300 s/)).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Namespace: 'AWS/SQS',
      Threshold: 300,
    });
    expect(alarm(t, /dead-letter queue/)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [expect.stringMatching(/^PipelineDeadLetterQueue/), 'QueueName'] },
        },
      ],
    });
    expect(Object.keys(construct.alarms).sort()).toEqual([
      'deadLetterQueue',
      'deliveriesFailed',
      'processorErrors',
      'queueAge',
    ]);
  });

  it('sends every alarm and its recovery to the alarm topic', () => {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Alarms');
    new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG, alarmTopic: topic });
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4);
    for (const a of alarms as { Properties: { AlarmActions: unknown; OKActions: unknown } }[]) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
    }
    expect(warnings(stack)).toEqual([]);
  });

  it('warns at synth that alarms notify nobody without an alarm topic', () => {
    const { stack } = pipeline();
    expect(warnings(stack)).toEqual([expect.stringMatching(/^Mailroom alarms notify nobody: no alarmTopic/)]);
  });
});

/** The warning texts of the stack (without the ids CDK appends). */
function warnings(stack: IConstruct): string[] {
  return Annotations.fromStack(stack as never)
    .findWarning('*', Match.anyValue())
    .map((w) => String(w.entry.data).replace(/ \[ack: .*\]$/, ''));
}

describe('MailroomDashboard', () => {
  it('shows messages, deliveries per action, backlog, processor and SMTP ingress widgets', () => {
    const stack = testStack().node.scope as IConstruct;
    const smtp = new MailroomStack(stack, 'Smtp', {
      env: { account: '123456789012', region: 'us-east-1' },
      ingress: 'smtp',
      configFile: EXAMPLE_CONFIG,
      domains: ['example.com'],
      alarmEmail: 'ops@example.com',
    });
    expect(smtp.dashboard).toBeInstanceOf(MailroomDashboard);
    const t = Template.fromStack(smtp);
    const body = JSON.stringify(onlyResource(t, 'AWS::CloudWatch::Dashboard').Properties.DashboardBody);
    for (const metric of [
      'MessagesReceived',
      'MessagesProcessed',
      'DeliveriesSucceeded',
      'DeliveriesFailed',
      'DeliveryRetries',
      'ReceiptToDeliveryMs',
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesVisible',
      'Throttles',
      'Duration',
      'CPUUtilization',
      'MemoryUtilization',
      'HealthyHostCount',
    ]) {
      expect(body, metric).toContain(metric);
    }
    expect(body).toContain(String.raw`SEARCH('{Mailroom,action,service} MetricName=\\\"DeliveriesFailed\\\"`);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
    });
    expect(warnings(smtp).filter((w) => w.includes('notify nobody'))).toEqual([]);
    // The alarm topic (TLS only; its AWS-managed-key finding acknowledged with a reason) passes cdk-nag.
    const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(smtp);
    expect(
      report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
      ),
    ).toEqual([]);
  });
});
