import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { allActions, MailroomMetric } from './mailroom-metrics.ts';

/** The pipeline's CloudWatch alarms. */
export interface MailroomAlarms {
  /** Messages waiting in the dead-letter queue (> 0). */
  readonly deadLetterQueue: cloudwatch.Alarm;
  /** Processor invocations that failed (> 0 in 5 minutes). */
  readonly processorErrors: cloudwatch.Alarm;
  /** The oldest message in the processing queue is older than the threshold. */
  readonly queueAge: cloudwatch.Alarm;
  /**
   * Deliveries that failed for good (`DeliveriesFailed` of every action, > 0 in 5 minutes): the
   * processor reports them in its batch response as handled, so `processorErrors` cannot see them.
   */
  readonly deliveriesFailed: cloudwatch.Alarm;
}

/** What the alarms watch. */
export interface PipelineAlarmsSources {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly processor: lambda.IFunction;
  /** The age of the oldest queued message above which the backlog alarm goes off. */
  readonly queueAgeThreshold: Duration;
  /** Notified when an alarm goes off and back to OK; without it a synth warning says so. */
  readonly alarmTopic?: sns.ITopic;
}

/** Warning id (acknowledge it with `Annotations.of(scope).acknowledgeWarning`) when alarms notify nobody. */
export const NO_ALARM_TOPIC_WARNING = 'mailroom:MailroomPipeline.noAlarmTopic';

/** Creates the pipeline's alarms in `scope`, wired to `alarmTopic` (or a warning that they notify nobody). */
export function createPipelineAlarms(scope: Construct, sources: PipelineAlarmsSources): MailroomAlarms {
  const threshold = sources.queueAgeThreshold;
  const fiveMinutes = Duration.minutes(5);
  const above0 = {
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  const alarms: MailroomAlarms = {
    deadLetterQueue: new cloudwatch.Alarm(scope, 'DeadLetterQueueAlarm', {
      alarmDescription: 'Mailroom: messages the processor gave up on are waiting in the dead-letter queue',
      metric: sources.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      ...above0,
    }),
    processorErrors: new cloudwatch.Alarm(scope, 'ProcessorErrorsAlarm', {
      alarmDescription: 'Mailroom: processor invocations failed',
      metric: sources.processor.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      ...above0,
    }),
    queueAge: new cloudwatch.Alarm(scope, 'QueueAgeAlarm', {
      alarmDescription: `Mailroom: mail has waited more than ${threshold.toSeconds()} s for processing`,
      metric: sources.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: threshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    deliveriesFailed: new cloudwatch.Alarm(scope, 'DeliveriesFailedAlarm', {
      alarmDescription:
        'Mailroom: deliveries failed for good (a permanent error, or the retry window ran out); see the DeliveriesFailed metric by action',
      metric: allActions(MailroomMetric.DeliveriesFailed, fiveMinutes, 'Failed deliveries'),
      ...above0,
    }),
  };
  if (sources.alarmTopic) {
    const action = new cloudwatchActions.SnsAction(sources.alarmTopic);
    for (const alarm of Object.values(alarms)) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  } else {
    Annotations.of(scope).addWarningV2(
      NO_ALARM_TOPIC_WARNING,
      'Mailroom alarms notify nobody: no alarmTopic was given, so failed deliveries, a dead-lettered message or a growing backlog only show in the CloudWatch console. Give MailroomPipeline an alarmTopic (MailroomStack: alarmTopic, or `-c alarmEmail=you@example.com` in the sample app).',
    );
  }
  return alarms;
}
