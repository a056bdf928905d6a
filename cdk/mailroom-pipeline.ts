import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import {
  TABLE_GSIS,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  TTL_ATTRIBUTE,
} from '../lib/aws/dynamo-table-schema.ts';
import { grantConfigTargets } from './config-grants.ts';
import { type ConfigSummary, readConfigSummary } from './config-summary.ts';
import { acknowledge, wildcardAction, wildcardResource } from './nag.ts';
import { PACKAGE_ROOT, PROCESSOR_ENTRY } from './package-files.ts';
import { processorBundling } from './processor-bundling.ts';
import { PropsProblems } from './props-error.ts';
import { bundlingRoot, isFile, resolveUserProject } from './user-project.ts';

/** Key prefix of the raw messages the self-hosted SMTP ingress writes (`smtp/<id>.eml`). */
export const SMTP_RAW_PREFIX = 'smtp/';
/** Key prefix of the raw messages the SES receipt rule writes (`ses/<sesMessageId>`). */
export const SES_RAW_PREFIX = 'ses/';

export interface MailroomPipelineProps {
  /**
   * The raw-mail bucket to use instead of creating one. Its lifecycle, logging and versioning stay yours;
   * give `encryptionKey` too when it is SSE-KMS encrypted so the grants include the key.
   * @default a new bucket: encrypted, public access blocked, TLS only, access-logged, expiring raw mail
   */
  readonly bucket?: s3.IBucket;
  /**
   * KMS key for the raw-mail bucket (SSE-KMS with an S3 bucket key). With `bucket`, the key that bucket
   * is encrypted with.
   * @default S3-managed encryption (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Keep object versions in the new raw-mail bucket (noncurrent versions expire after `retentionDays`).
   * @default false
   */
  readonly versioned?: boolean;
  /**
   * Days raw mail is kept: the bucket's lifecycle expires `smtp/` and `ses/` objects after this many days
   * and the processor sets the same time to live on the records (`MAILROOM_RETENTION_DAYS`).
   * @default 30
   */
  readonly retentionDays?: number;
  /**
   * Bucket that receives the new raw-mail bucket's server access logs.
   * @default a new bucket (SSE-S3, public access blocked, TLS only, logs expire after 90 days)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * What happens to the buckets, the table and the log group when they leave the stack.
   * @default RemovalPolicy.RETAIN (mail and records are never deleted by a `cdk destroy`)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Your Mailroom config (`mailroom.config.ts`), bundled into the processor with the handlers it imports
   * (esbuild, from your project and its node_modules, like `NodejsFunction`). It is also loaded at synth:
   * its `lambda()` and `eventBridge()` targets become the processor's grants, and an `SmtpIngress` runs
   * the same config. Relative paths are resolved from the current directory (where `cdk synth` runs).
   * @default `mailroom.config.ts` in the current directory
   */
  readonly configFile?: string;
  /**
   * Your project's root folder: where the processor is bundled from (`NodejsFunction`'s `projectRoot`).
   * @default the folder of the lock file
   */
  readonly projectRoot?: string;
  /**
   * Your project's lock file (package-lock.json, yarn.lock, pnpm-lock.yaml, bun.lock(b)).
   * @default the nearest lock file in the folder of `projectRoot` (when given) or of `configFile`, or a
   * folder above it
   */
  readonly depsLockFilePath?: string;
  /**
   * The processor's timeout (1 second to 15 minutes).
   * @default Duration.minutes(1)
   */
  readonly processorTimeout?: Duration;
  /**
   * The processor's memory in MiB (128 to 10240).
   * @default 1024
   */
  readonly processorMemorySize?: number;
  /**
   * How long the processor's log group keeps logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly processorLogRetention?: logs.RetentionDays;
  /**
   * Visibility timeout of the processing queue; at least 6 × `processorTimeout`, as AWS advises for
   * Lambda event sources, so a batch still running is never handed to a second invocation.
   * @default 6 × processorTimeout
   */
  readonly queueVisibilityTimeout?: Duration;
  /**
   * Receives of one message before it moves to the dead-letter queue (1 to 1000).
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Messages per processor invocation (1 to 10000; above 10 needs `maxBatchingWindow`).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers messages before invoking the processor (at most 5 minutes).
   * @default no batching window
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * An EventBridge bus the processor publishes `mailroom.received` / `mailroom.routed` to
   * (`MAILROOM_EVENT_BUS`): `true` creates one.
   * @default no event bus
   */
  readonly eventBus?: boolean | events.IEventBus;
  /**
   * SNS topic notified when an alarm goes off (and back to OK).
   * @default alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The age of the oldest queued message above which the backlog alarm goes off.
   * @default Duration.minutes(5)
   */
  readonly queueAgeAlarmThreshold?: Duration;
  /**
   * A verified SES address the `forward()` action sends from (`MAILROOM_FORWARD_FROM`); the processor
   * may then send through SES as that address or its domain.
   * @default forwarding through SES is not set up
   */
  readonly forwardFrom?: string;
  /**
   * Verified SES identities (domains or addresses) handlers' replies (`ctx.reply`) are sent from; the
   * processor may send through SES as them. `MailroomStack` passes its domains.
   * @default none: a reply fails with SES's AccessDenied, and the delivery is retried, then dead-lettered
   */
  readonly replyIdentities?: readonly string[];
  /**
   * The Secrets Manager secret holding the key that signs reply addresses: `true` creates one with a
   * generated 64-character key (kept on stack deletion like the table, so addresses in flight stay
   * valid), or pass an existing secret whose string is the key (32+ random characters, not JSON). The
   * processor reads it at init into `MAILROOM_REPLY_KEY` (`MAILROOM_REPLY_KEY_SECRET_ARN`; the value never
   * enters the template); an `SmtpIngress` on this pipeline gets it injected as `MAILROOM_REPLY_KEY`.
   * Without it a config that falls back to the development key refuses to start.
   * @default no reply key secret
   */
  readonly replyKeySecret?: secretsmanager.ISecret | true;
}

/** The pipeline's CloudWatch alarms. */
export interface MailroomAlarms {
  /** Messages waiting in the dead-letter queue (> 0). */
  readonly deadLetterQueue: cloudwatch.Alarm;
  /** Processor invocations that failed (> 0 in 5 minutes). */
  readonly processorErrors: cloudwatch.Alarm;
  /** The oldest message in the processing queue is older than the threshold. */
  readonly queueAge: cloudwatch.Alarm;
}

/**
 * Mailroom's processing pipeline on AWS: the raw-mail bucket, S3 event notifications for `smtp/*.eml` into
 * an SQS queue (with a dead-letter queue), the processor Lambda reading that queue with partial batch
 * responses, the DynamoDB table of records and mailboxes, an optional EventBridge bus and the alarms.
 * Ingress constructs ({@link SesIngress}, {@link SmtpIngress}) write into the bucket and feed the queue.
 */
export class MailroomPipeline extends Construct {
  /** The raw-mail bucket (`smtp/` and `ses/` prefixes). */
  readonly bucket: s3.IBucket;
  /** The KMS key of the raw-mail bucket, when it is SSE-KMS encrypted. */
  readonly encryptionKey?: kms.IKey;
  /** The bucket holding the raw-mail bucket's access logs, when this construct created the bucket. */
  readonly accessLogsBucket?: s3.IBucket;
  /** The processing queue: S3 notifications and SES notifications (through SNS). */
  readonly queue: sqs.Queue;
  /** Messages the processor failed on `maxReceiveCount` times; kept 14 days for inspection and redrive. */
  readonly deadLetterQueue: sqs.Queue;
  /** The processor Lambda (Mailroom's `functions/process`, with your config and handlers bundled in). */
  readonly processor: nodejs.NodejsFunction;
  /** Your Mailroom config bundled into the processor (absolute path); the SMTP ingress runs the same one. */
  readonly configFile: string;
  /** Your project's root folder (absolute), where the processor is bundled from. */
  readonly projectRoot: string;
  /** Your project's lock file (absolute). */
  readonly depsLockFilePath: string;
  /** What the config says that the infrastructure depends on (domains, targets), read at synth. */
  readonly configSummary: ConfigSummary;
  /** Records, mailboxes, deliveries and outbox entries. */
  readonly table: dynamodb.Table;
  /** The bus the processor publishes to, when one was asked for. */
  readonly eventBus?: events.IEventBus;
  /** The pipeline's alarms. */
  readonly alarms: MailroomAlarms;
  /** The reply signing key's secret, when `replyKeySecret` asked for one. */
  readonly replyKeySecret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: MailroomPipelineProps = {}) {
    super(scope, id);
    // Access logs are granted through a bucket policy, never the legacy LogDeliveryWrite ACL, whatever
    // the app's feature flags say (the bucket enforces object ownership, which rules ACLs out).
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    const problems = new PropsProblems('MailroomPipeline');
    const project = resolveUserProject(props, problems);
    const summary = configSummaryOf(project.configFile, problems);
    const bundleFrom = bundlingRoot(project, PROCESSOR_ENTRY, PACKAGE_ROOT, problems);
    const retentionDays = props.retentionDays ?? 30;
    const processorTimeout = props.processorTimeout ?? Duration.minutes(1);
    const visibilityTimeout =
      props.queueVisibilityTimeout ?? Duration.seconds(processorTimeout.toSeconds() * 6);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    validate(props, { retentionDays, processorTimeout, visibilityTimeout }, problems);
    this.configFile = project.configFile;
    this.projectRoot = project.projectRoot;
    this.depsLockFilePath = project.depsLockFilePath!;
    this.configSummary = summary!;

    const stack = Stack.of(this);
    this.encryptionKey = props.encryptionKey;

    if (props.bucket) {
      this.bucket = props.bucket;
    } else {
      const accessLogsBucket =
        props.serverAccessLogsBucket ??
        new s3.Bucket(this, 'AccessLogsBucket', {
          // Server access logging can only deliver to SSE-S3 buckets.
          encryption: s3.BucketEncryption.S3_MANAGED,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          enforceSSL: true,
          objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
          lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
          removalPolicy,
        });
      if (!props.serverAccessLogsBucket) {
        acknowledge(accessLogsBucket, {
          id: 'AwsSolutions-S1',
          reason:
            'This is the access-log bucket of the raw-mail bucket; logging it into itself (or a third bucket) adds no audit value.',
        });
      }
      this.accessLogsBucket = accessLogsBucket;
      this.bucket = new s3.Bucket(this, 'RawBucket', {
        encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
        encryptionKey: props.encryptionKey,
        bucketKeyEnabled: props.encryptionKey ? true : undefined,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: props.versioned ?? false,
        serverAccessLogsBucket: accessLogsBucket,
        serverAccessLogsPrefix: 'raw-mail/',
        lifecycleRules: [
          ...[SMTP_RAW_PREFIX, SES_RAW_PREFIX].map((prefix) => ({
            id: `expire-${prefix.replace('/', '')}`,
            prefix,
            expiration: Duration.days(retentionDays),
            noncurrentVersionExpiration: props.versioned ? Duration.days(retentionDays) : undefined,
          })),
          // The SMTP task may upload large messages in parts but is not allowed to abort them.
          { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ],
        removalPolicy,
      });
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      // SSE-SQS: S3 event notifications cannot be delivered to a queue encrypted with the AWS-managed KMS key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
      prefix: SMTP_RAW_PREFIX,
      suffix: '.eml',
    });
    suppressBucketNotificationsHandler(stack);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy,
    });
    for (const gsi of TABLE_GSIS) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: { name: gsi.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: gsi.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    if (props.eventBus === true) this.eventBus = new events.EventBus(this, 'EventBus');
    else if (props.eventBus) this.eventBus = props.eventBus;

    const logGroup = new logs.LogGroup(this, 'ProcessorLogs', {
      retention: props.processorLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    // Our own role, so the function gets write access to its log group only (not the managed
    // AWSLambdaBasicExecutionRole, which allows every log group).
    const role = new iam.Role(this, 'ProcessorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Mailroom processor: reads raw mail, writes records',
    });
    logGroup.grantWrite(role);

    const environment: Record<string, string> = {
      MAILROOM_RAW_BUCKET: this.bucket.bucketName,
      MAILROOM_TABLE: this.table.tableName,
      MAILROOM_SMTP_PREFIX: SMTP_RAW_PREFIX,
      MAILROOM_SES_PREFIX: SES_RAW_PREFIX,
      MAILROOM_RETENTION_DAYS: String(retentionDays),
    };
    if (this.eventBus) environment.MAILROOM_EVENT_BUS = this.eventBus.eventBusName;
    if (props.forwardFrom) environment.MAILROOM_FORWARD_FROM = props.forwardFrom;
    this.replyKeySecret = this.createReplyKeySecret(props.replyKeySecret, removalPolicy);
    if (this.replyKeySecret) environment.MAILROOM_REPLY_KEY_SECRET_ARN = this.replyKeySecret.secretArn;

    this.processor = new nodejs.NodejsFunction(this, 'Processor', {
      entry: PROCESSOR_ENTRY,
      handler: 'handler',
      // Your project (see bundlingRoot for when Mailroom lives outside it).
      projectRoot: bundleFrom!.projectRoot,
      depsLockFilePath: bundleFrom!.depsLockFilePath,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: processorTimeout,
      memorySize: props.processorMemorySize ?? 1024,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment,
      description: 'Mailroom: parse, authenticate, route and deliver stored mail',
      bundling: processorBundling({ configFile: this.configFile }),
    });
    this.processor.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow: props.maxBatchingWindow,
        reportBatchItemFailures: true,
      }),
    );

    this.grantReadMail(this.processor);
    this.table.grantReadWriteData(this.processor);
    this.eventBus?.grantPutEventsTo(this.processor);
    // The config's lambda() functions and eventBridge() buses, each by its own ARN.
    grantConfigTargets(this.processor, this.configSummary, this);
    this.replyKeySecret?.grantRead(this.processor);
    const sendAs = [
      ...(props.forwardFrom ? [props.forwardFrom, domainOf(props.forwardFrom)] : []),
      ...(props.replyIdentities ?? []),
    ];
    if (sendAs.length) this.grantSendAs(role, [...new Set(sendAs)]);

    this.acknowledgeProcessorFindings();

    this.alarms = this.createAlarms(props);
  }

  /**
   * Lets `grantee` read raw messages (both prefixes) and the table's records: what a tool that inspects
   * or replays mail needs.
   */
  grantReadMail(grantee: iam.IGrantable): iam.Grant {
    let grant = this.bucket.grantRead(grantee);
    if (this.encryptionKey && !this.bucket.encryptionKey) {
      grant = grant.combine(this.encryptionKey.grantDecrypt(grantee));
    }
    return grant.combine(this.table.grantReadData(grantee));
  }

  /**
   * Lets `grantee` put objects under `prefix` and nothing else (no reads, no deletes, no other keys): what
   * an ingress writing raw mail needs. With a KMS-encrypted bucket also kms:GenerateDataKey and
   * kms:Decrypt on its key (S3 needs Decrypt to complete multipart uploads).
   */
  grantWriteRaw(grantee: iam.IGrantable, prefix: string): iam.Grant {
    const problems = new PropsProblems('MailroomPipeline.grantWriteRaw');
    problems.check(
      /^[A-Za-z0-9!_.'()-]+(\/[A-Za-z0-9!_.'()-]+)*\/$/.test(prefix),
      `prefix must be a non-empty key prefix ending in "/" without wildcards, got ${JSON.stringify(prefix)}`,
    );
    problems.throwIfAny();
    let grant = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [this.bucket.arnForObjects(`${prefix}*`)],
      resource: this.bucket,
    });
    const key = this.encryptionKey ?? this.bucket.encryptionKey;
    if (key) grant = grant.combine(key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt'));
    return grant;
  }

  /**
   * Subscribes the processing queue to the SNS topic an SES receipt rule notifies (raw message delivery
   * off: the queue receives SNS envelopes whose `Message` is the SES notification).
   */
  addSesSource(topic: sns.ITopic): void {
    topic.addSubscription(new subscriptions.SqsSubscription(this.queue, { rawMessageDelivery: false }));
  }

  private createReplyKeySecret(
    option: MailroomPipelineProps['replyKeySecret'],
    removalPolicy: RemovalPolicy,
  ): secretsmanager.ISecret | undefined {
    if (option !== true) return option;
    const secret = new secretsmanager.Secret(this, 'ReplyKeySecret', {
      description: 'Mailroom: the key that signs reply addresses (MAILROOM_REPLY_KEY)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    acknowledge(secret, {
      id: 'AwsSolutions-SMG4',
      reason:
        'Replacing the reply key would invalidate every reply address in flight; keys are rotated by adding a key id to replyAddress.keys (README), not by Secrets Manager rotation.',
    });
    return secret;
  }

  private acknowledgeProcessorFindings(): void {
    acknowledge(this.processor, {
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the Node version Mailroom supports and tests against (Dockerfile, engines); bumped deliberately, not by the linter.',
    });
    const policy = this.processor.role?.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    const key = this.encryptionKey ?? this.bucket.encryptionKey;
    acknowledge(
      policy,
      {
        id: wildcardResource(this, this.bucket.arnForObjects('*')),
        reason:
          'The processor reads any raw message of this bucket (smtp/ and ses/ keys are not known in advance).',
      },
      {
        id: wildcardResource(this, `${this.table.tableArn}/index/*`),
        reason: "The processor queries the table's own indexes (gsi1, gsi2).",
      },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*'].map((action) => ({
        id: wildcardAction(action),
        reason: 'CDK grantRead action groups, limited to the raw-mail bucket and its objects.',
      })),
      ...(key
        ? ['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map((action) => ({
            id: wildcardAction(action),
            reason: 'CDK key grant action groups, limited to the raw-mail bucket key.',
          }))
        : []),
    );
  }

  /** Lets the processor send through SES (SESv2 `SendEmail`, raw) as these identities only. */
  private grantSendAs(role: iam.IRole, identities: string[]): void {
    const stack = Stack.of(this);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: identities.map((identity) =>
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
        ),
      }),
    );
  }

  private createAlarms(props: MailroomPipelineProps): MailroomAlarms {
    const threshold = props.queueAgeAlarmThreshold ?? Duration.minutes(5);
    const alarms: MailroomAlarms = {
      deadLetterQueue: new cloudwatch.Alarm(this, 'DeadLetterQueueAlarm', {
        alarmDescription: 'Mailroom: messages the processor gave up on are waiting in the dead-letter queue',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      processorErrors: new cloudwatch.Alarm(this, 'ProcessorErrorsAlarm', {
        alarmDescription: 'Mailroom: processor invocations failed',
        metric: this.processor.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      queueAge: new cloudwatch.Alarm(this, 'QueueAgeAlarm', {
        alarmDescription: `Mailroom: mail has waited more than ${threshold.toSeconds()} s for processing`,
        metric: this.queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: threshold.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
    if (props.alarmTopic) {
      const action = new cloudwatchActions.SnsAction(props.alarmTopic);
      for (const alarm of Object.values(alarms)) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
    return alarms;
  }
}

interface Resolved {
  readonly retentionDays: number;
  readonly processorTimeout: Duration;
  readonly visibilityTimeout: Duration;
}

/** The config's summary, or undefined with the loader's message recorded as a problem. */
function configSummaryOf(configFile: string, problems: PropsProblems): ConfigSummary | undefined {
  if (!isFile(configFile)) return undefined;
  try {
    return readConfigSummary(configFile);
  } catch (error) {
    problems.add(`configFile ${configFile} does not load: ${(error as Error).message}`);
    return undefined;
  }
}

function validate(props: MailroomPipelineProps, r: Resolved, problems: PropsProblems): void {
  const isInt = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;

  problems.check(
    Number.isInteger(r.retentionDays) && r.retentionDays > 0,
    `retentionDays must be a positive integer, got ${r.retentionDays}`,
  );
  const batchSize = props.batchSize ?? 10;
  problems.check(
    isInt(batchSize, 1, 10_000),
    `batchSize must be an integer from 1 to 10000, got ${batchSize}`,
  );
  const windowSeconds = props.maxBatchingWindow?.toSeconds() ?? 0;
  problems.check(windowSeconds <= 300, `maxBatchingWindow must be at most 5 minutes, got ${windowSeconds} s`);
  problems.check(
    !(batchSize > 10 && windowSeconds < 1),
    `batchSize above 10 (got ${batchSize}) needs a maxBatchingWindow of at least 1 second`,
  );
  const maxReceiveCount = props.maxReceiveCount ?? 5;
  problems.check(
    isInt(maxReceiveCount, 1, 1000),
    `maxReceiveCount must be an integer from 1 to 1000, got ${maxReceiveCount}`,
  );
  const memory = props.processorMemorySize ?? 1024;
  problems.check(
    isInt(memory, 128, 10_240),
    `processorMemorySize must be an integer from 128 to 10240 MiB, got ${memory}`,
  );
  const timeout = r.processorTimeout.toSeconds();
  problems.check(
    timeout >= 1 && timeout <= 900,
    `processorTimeout must be from 1 second to 15 minutes, got ${timeout} s`,
  );
  const visibility = r.visibilityTimeout.toSeconds();
  problems.check(
    visibility >= timeout * 6,
    `queueVisibilityTimeout must be at least 6 × processorTimeout (${timeout * 6} s), got ${visibility} s`,
  );
  problems.check(
    visibility <= 43_200,
    `queueVisibilityTimeout must be at most 12 hours, got ${visibility} s`,
  );
  if (props.queueAgeAlarmThreshold) {
    problems.check(props.queueAgeAlarmThreshold.toSeconds() > 0, 'queueAgeAlarmThreshold must be positive');
  }
  problems.check(
    isFile(PROCESSOR_ENTRY),
    `Mailroom's processor entry ${PROCESSOR_ENTRY} is missing (an installed package ships it in dist/)`,
  );
  if (props.bucket) {
    for (const name of ['versioned', 'serverAccessLogsBucket'] as const) {
      problems.check(
        props[name] === undefined,
        `${name} only applies to a bucket this construct creates; configure it on the bucket you passed`,
      );
    }
  }
  if (props.forwardFrom !== undefined) {
    problems.check(
      Token.isUnresolved(props.forwardFrom) || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.forwardFrom),
      `forwardFrom must be an email address, got ${JSON.stringify(props.forwardFrom)}`,
    );
  }
  for (const identity of props.replyIdentities ?? []) {
    problems.check(
      Token.isUnresolved(identity) || /^([^@\s]+@)?[^@\s]+\.[^@\s]+$/.test(identity),
      `replyIdentities: ${JSON.stringify(identity)} is not a domain or an email address`,
    );
  }
  problems.throwIfAny();
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** cdk-nag reasons for the stack-wide Lambda CDK adds to configure S3 event notifications. */
function suppressBucketNotificationsHandler(stack: Stack): void {
  const handler = stack.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
  if (!handler) return;
  acknowledge(
    handler,
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'CDK-provided handler that writes the bucket notification configuration at deploy time; the managed policy only lets it write its own logs.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CDK-provided handler shared by every bucket of the stack: CDK grants s3:PutBucketNotification on * and offers no way to scope it.',
    },
  );
}
