import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
import { ATTACHMENTS_PREFIX, attachmentLifecycleRules, grantAttachmentWrites } from './attachment-storage.ts';
import { grantConfigTargets } from './config-grants.ts';
import { type ConfigSummary, readConfigSummary } from './config-summary.ts';
import { METRICS_NAMESPACE, PROCESSOR_SERVICE } from './mailroom-metrics.ts';
import { acknowledge, wildcardAction, wildcardResource } from './nag.ts';
import { PACKAGE_ROOT, PROCESSOR_ENTRY } from './package-files.ts';
import { createPipelineAlarms, type MailroomAlarms } from './pipeline-alarms.ts';
import type { MailroomPipelineProps } from './pipeline-props.ts';
import { DEFAULT_MAX_CONCURRENCY, validatePipelineProps } from './pipeline-validation.ts';
import { processorBundling } from './processor-bundling.ts';
import { MailroomPropsError, PropsProblems } from './props-error.ts';
import { MailroomReadApi } from './read-api.ts';
import { bundlingRoot, isFile, resolveUserProject } from './user-project.ts';

/** Key prefix of the raw messages the self-hosted SMTP ingress writes (`smtp/<id>.eml`). */
export const SMTP_RAW_PREFIX = 'smtp/';
/** Key prefix of the raw messages the SES receipt rule writes (`ses/<sesMessageId>`). */
export const SES_RAW_PREFIX = 'ses/';

export type { MailroomPipelineProps } from './pipeline-props.ts';

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
  /** The mailbox read API, when `readApi` asked for it. */
  readonly readApi?: MailroomReadApi;

  /** The read API's Lambda, when `readApi` asked for it. */
  get readApiFunction(): nodejs.NodejsFunction | undefined {
    return this.readApi?.function;
  }

  /** The read API's Function URL (IAM auth), when `readApi` asked for it. */
  get readApiUrl(): string | undefined {
    return this.readApi?.url;
  }

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
    validatePipelineProps(props, { retentionDays, processorTimeout, visibilityTimeout }, problems);
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
          ...attachmentLifecycleRules(retentionDays, props.versioned ?? false),
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
      // where deliveries that failed transiently are rescheduled (delayed messages; see retry-queue.ts)
      MAILROOM_QUEUE_URL: this.queue.queueUrl,
      ...observabilityEnvironment(props.processorLogLevel ?? 'info'),
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
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment,
      description: 'Mailroom: parse, authenticate, route and deliver stored mail',
      bundling: processorBundling({ configFile: this.configFile }),
    });
    this.processor.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow: props.maxBatchingWindow,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
      }),
    );

    this.grantReadMail(this.processor);
    grantAttachmentWrites(this.bucket, this.encryptionKey ?? this.bucket.encryptionKey, role);
    this.table.grantReadWriteData(this.processor);
    this.queue.grantSendMessages(this.processor);
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

    if (props.readApi) {
      this.readApi = new MailroomReadApi(this, 'ReadApi', {
        ...(props.readApi === true ? {} : props.readApi),
        bucket: this.bucket,
        encryptionKey: this.encryptionKey,
        table: this.table,
        prefixes: { smtp: SMTP_RAW_PREFIX, ses: SES_RAW_PREFIX, attachments: ATTACHMENTS_PREFIX },
        bundleFrom: bundleFrom!,
        removalPolicy,
      });
    }

    this.alarms = createPipelineAlarms(this, {
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      processor: this.processor,
      queueAgeThreshold: props.queueAgeAlarmThreshold ?? Duration.minutes(5),
      alarmTopic: props.alarmTopic,
    });
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
   * Lets `grantee` call the read API (`lambda:InvokeFunctionUrl`, SigV4-signed requests to `readApiUrl`).
   * @throws MailroomPropsError when the pipeline has no read API (`readApi` not set).
   */
  grantReadApi(grantee: iam.IGrantable): iam.Grant {
    if (!this.readApi) {
      throw new MailroomPropsError('MailroomPipeline.grantReadApi', [
        'the pipeline has no read API: set readApi',
      ]);
    }
    return this.readApi.grantInvoke(grantee);
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
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions, so CDK grants them on *.',
      },
      {
        id: wildcardResource(this, `${this.table.tableArn}/index/*`),
        reason: "The processor queries the table's own indexes (gsi1, gsi2).",
      },
      {
        id: wildcardResource(this, this.bucket.arnForObjects(`${ATTACHMENTS_PREFIX}*`)),
        reason:
          'The processor writes attachments content-addressed under attachments/ (their keys are hashes of content not known in advance).',
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

/**
 * Powertools for AWS Lambda's settings (service, metrics namespace, log level) and Mailroom's log level:
 * the metrics land where the alarms and the dashboard look ({@link METRICS_NAMESPACE}).
 */
function observabilityEnvironment(level: 'debug' | 'info' | 'warn' | 'error'): Record<string, string> {
  return {
    MAILROOM_LOG_LEVEL: level,
    POWERTOOLS_SERVICE_NAME: PROCESSOR_SERVICE,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: level.toUpperCase(),
  };
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
