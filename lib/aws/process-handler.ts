/**
 * The processing Lambda's handler, built from its environment: `functions/process.ts` only names the
 * user's config module and the logger, and hands every event over. Observability (Powertools for AWS
 * Lambda): the entry's logger, EMF metrics read off the pipeline's events and flushed per invocation, and
 * X-Ray tracing of the handler and the AWS clients in a Lambda runtime (see `observability/`).
 *
 * In a Lambda runtime the processor is built during the init phase ({@link initProcessHandler}): a
 * development or weak reply key, a missing variable or a bad config fails the init with one line in the
 * log, before any message is taken (SQS keeps the messages and retries them).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { type MailroomConfig, type MailroomOptions, resolveConfig } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import { assertProductionReplyKeys } from '../routing/index.ts';
import { loadProcessorCloudPorts } from './aws-port-loader.ts';
import type { MailroomEvent } from './mailroom-events.ts';
import { EmfMetrics } from './observability/emf-metrics.ts';
import { LambdaLogger } from './observability/lambda-logger.ts';
import { type MetricsPort, PROCESSOR_SERVICE } from './observability/metric-names.ts';
import { pipelineMetrics } from './observability/pipeline-metrics.ts';
import { inHandlerSegment, startTracing, traced } from './observability/tracing.ts';
import { type ProcessEnv, parseProcessEnv } from './process-env.ts';
import { processorOutbound } from './processor-outbound.ts';
import type { SecretsClient } from './secrets-manager-users.ts';
import { type ProcessEvent, parseProcessEvent } from './sqs-event-schemas.ts';
import {
  createSqsProcessor,
  type SesLambdaResult,
  type SqsProcessor,
  type SqsProcessorOptions,
} from './sqs-processor.ts';

export interface ProcessHandlerOptions {
  /** The options a config file exports (validated on the first event). @default the entry's config module */
  config?: MailroomOptions;
  /** Where settings come from. @default process.env */
  env?: Record<string, string | undefined>;
  /** @default new S3Client({ forcePathStyle: <an endpoint is set> }) (region and endpoint from the env) */
  s3?: S3Client;
  /** @default new DynamoDBClient({}) (region and endpoint from the env) */
  dynamo?: DynamoDBClient;
  /** @default EventBridge `PutEvents` on `MAILROOM_EVENT_BUS` when set, else no events */
  emit?: (events: MailroomEvent[]) => Promise<void>;
  /** @default the entry's logger (Powertools Logger: JSON lines at `POWERTOOLS_LOG_LEVEL`/`MAILROOM_LOG_LEVEL`) */
  logger?: Logger;
  /**
   * Where the processor's metrics go, flushed after each invocation.
   * @default EMF lines on stdout (Powertools Metrics, namespace `Mailroom`, service `mailroom`) in a Lambda
   * runtime (`AWS_LAMBDA_FUNCTION_NAME` set in `env`), else none
   */
  metrics?: MetricsPort | null;
  /**
   * Passed to the processor as they are: outbound mail (default: SES, see `processorOutbound`), clock,
   * size limit, and the AWS action ports
   * (default: an SDK client for each of `lambda()`, `eventBridge()`, `forward()` the routes use).
   */
  processor?: Pick<SqsProcessorOptions, 'cloud' | 'outbound' | 'now' | 'maxMessageBytes'>;
}

/** What {@link initProcessHandler} needs beyond the handler's options. */
export interface ProcessInitOptions extends ProcessHandlerOptions {
  /** Reads `MAILROOM_REPLY_KEY_SECRET_ARN`. @default a new SecretsManagerClient (only when a secret is named) */
  secrets?: SecretsClient;
}

/** What the entry point provides: the user's config module, loaded on demand, and the default logger. */
export interface ProcessEntry {
  userConfig(): Promise<MailroomOptions>;
  logger(): Logger;
}

export type ProcessResult = SQSBatchResponse | SesLambdaResult;

/** The Lambda handler: an SQS batch, or a receipt rule's Lambda action event. */
export type ProcessHandler = (event: unknown, context?: Context) => Promise<ProcessResult>;

/** A built processor and what each invocation reports to. */
interface BuiltProcessor {
  processor: SqsProcessor;
  logger: Logger;
  metrics: MetricsPort | null;
}

/** EventBridge `PutEvents` on the bus, loaded only when events are on. */
async function eventBusEmitter(eventBusName: string) {
  const [{ EventBridgeClient }, { eventBridgeEmitter }] = await Promise.all([
    import('@aws-sdk/client-eventbridge'),
    import('./event-bridge-emitter.ts'),
  ]);
  return eventBridgeEmitter({ client: traced(new EventBridgeClient({})), eventBusName });
}

function processorOptions(
  env: ProcessEnv,
  options: ProcessHandlerOptions,
  config: MailroomConfig,
  logger: Logger,
) {
  const out: SqsProcessorOptions = {
    outbound: processorOutbound({
      ...(env.MAILROOM_SES_CONFIGURATION_SET === undefined
        ? {}
        : { configurationSetName: env.MAILROOM_SES_CONFIGURATION_SET }),
    }),
    ...options.processor,
    config,
    s3:
      options.s3 ??
      traced(new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL) })),
    dynamo: options.dynamo ?? traced(new DynamoDBClient({})),
    tableName: env.MAILROOM_TABLE,
    rawBucket: env.MAILROOM_RAW_BUCKET,
    smtpPrefix: env.MAILROOM_SMTP_PREFIX,
    sesPrefix: env.MAILROOM_SES_PREFIX,
    logger,
  };
  if (env.MAILROOM_RETENTION_DAYS !== undefined) out.retentionDays = env.MAILROOM_RETENTION_DAYS;
  return out;
}

async function buildProcessor(
  options: ProcessHandlerOptions,
  entry: ProcessEntry,
  resolved?: MailroomConfig,
): Promise<BuiltProcessor> {
  const rawEnv = options.env ?? process.env;
  const env = parseProcessEnv(rawEnv);
  await startTracing(rawEnv);
  const logger = options.logger ?? entry.logger();
  const metrics =
    options.metrics !== undefined
      ? options.metrics
      : rawEnv.AWS_LAMBDA_FUNCTION_NAME
        ? new EmfMetrics(PROCESSOR_SERVICE)
        : null;
  const emit =
    options.emit ?? (env.MAILROOM_EVENT_BUS ? await eventBusEmitter(env.MAILROOM_EVENT_BUS) : undefined);
  const config = resolved ?? resolveConfig(options.config ?? (await entry.userConfig()));
  const built = processorOptions(env, options, config, logger);
  if (emit) built.emit = emit;
  if (metrics) built.observe = pipelineMetrics(metrics);
  // The ports hand on where a message's raw object is; the processor knows once it exists.
  let processor: SqsProcessor | undefined;
  const cloud =
    options.processor && 'cloud' in options.processor
      ? options.processor.cloud
      : await loadProcessorCloudPorts(config, {
          ...(env.MAILROOM_FORWARD_FROM === undefined ? {} : { forwardFrom: env.MAILROOM_FORWARD_FROM }),
          rawLocation: (id) => processor?.rawLocation(id) ?? null,
        });
  if (cloud) built.cloud = cloud;
  processor = createSqsProcessor(built);
  return { processor, logger, metrics };
}

/**
 * Runs one invocation: the logger learns the invocation (cold start, request id), the work runs in the
 * handler's trace segment, and the invocation's metrics are flushed whatever happened.
 */
async function dispatch(
  built: BuiltProcessor,
  parsed: ProcessEvent,
  context: Context | undefined,
): Promise<ProcessResult> {
  const { processor, logger, metrics } = built;
  if (context && logger instanceof LambdaLogger) logger.addContext(context);
  try {
    return await inHandlerSegment<ProcessResult>(() =>
      'sqs' in parsed ? processor(parsed.sqs) : processor.ses(parsed.ses),
    );
  } finally {
    metrics?.flush();
  }
}

/**
 * A handler with injected parts (tests, custom entry points). The processor is built on the first event
 * (settings validated then); a build that failed is tried again on the next event.
 */
export function createProcessHandler(options: ProcessHandlerOptions, entry: ProcessEntry): ProcessHandler {
  let processor: Promise<BuiltProcessor> | undefined;
  return async (event, context) => {
    const parsed = parseProcessEvent(event);
    processor ??= buildProcessor(options, entry).catch((err: unknown) => {
      processor = undefined;
      throw err;
    });
    return dispatch(await processor, parsed, context);
  };
}

/**
 * The handler as a Lambda init builds it, so that a bad setting fails the init rather than every batch:
 * the reply key secret is read into `MAILROOM_REPLY_KEY` first, then the config is loaded (it may read that
 * variable), development and weak reply keys are refused, and the processor is built.
 * @throws InsecureReplyKeyError, ReplyKeySecretError, ProcessEnvError or ConfigError, one line each.
 */
export async function initProcessHandler(
  options: ProcessInitOptions,
  entry: ProcessEntry,
): Promise<ProcessHandler> {
  const env = options.env ?? process.env;
  await startTracing(env);
  const { loadReplyKeySecret } = await import('./reply-key-secret.ts');
  await loadReplyKeySecret(env, async () => {
    if (options.secrets) return options.secrets;
    const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    return traced(new SecretsManagerClient({}));
  });
  const resolved = resolveConfig(options.config ?? (await entry.userConfig()));
  assertProductionReplyKeys(resolved.replyAddress?.keys);
  const processor = await buildProcessor(options, entry, resolved);
  return async (event, context) => dispatch(processor, parseProcessEvent(event), context);
}
