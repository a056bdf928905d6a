import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { ReadApiOptions } from './read-api.ts';

/** Settings of a `MailroomPipeline`. */
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
   * Processor invocations the queue's event source runs at once (2 to 1000): a backlog is worked off
   * at this pace instead of fanning out against webhooks and SES quotas.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Concurrency reserved for the processor (and its ceiling); at least `maxConcurrency`.
   * @default none (the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;
  /**
   * The processor's log level (`MAILROOM_LOG_LEVEL`, and `POWERTOOLS_LOG_LEVEL` for Powertools Logger).
   * @default 'info'
   */
  readonly processorLogLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * An EventBridge bus the processor publishes `mailroom.received` / `mailroom.routed` to
   * (`MAILROOM_EVENT_BUS`): `true` creates one.
   * @default no event bus
   */
  readonly eventBus?: boolean | events.IEventBus;
  /**
   * SNS topic notified when an alarm goes off (and back to OK).
   * @default alarms without actions, and a synth warning saying so
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
  /**
   * The mailbox read API: a read-only Lambda behind a Function URL with IAM auth (SigV4) serving the dev
   * API's resources (`/api/messages`, `/:id`, `/:id/raw`, `/:id/attachments/:n`, `/api/mailboxes/:name`,
   * `/api/threads/:id`, paginated) from the table and the bucket. `true` for the defaults; grant callers
   * with `grantReadApi`. Its URL is `readApiUrl` (`MailroomStack` outputs it as `ReadApiUrl`, which
   * `mailroom messages --stack` reads).
   * @default false
   */
  readonly readApi?: boolean | ReadApiOptions;
}
