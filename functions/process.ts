/**
 * The processing Lambda: SQS batches of stored-message notifications (S3 events from `mailroom smtp`, SES
 * receipt notifications through SNS), or a receipt rule's Lambda action invoking it directly.
 *
 * Thin on purpose: it validates the event, reads its settings from the environment once, and hands over to
 * `lib/aws/sqs-processor.ts`. `mailroom-config` is the user's config module (an alias: tsconfig `paths` and
 * the vitest alias map it to `examples/mailroom.config.ts`; the CDK bundles the user's file in its place).
 *
 * Environment (set by the CDK construct):
 * - `MAILROOM_RAW_BUCKET` (required), `MAILROOM_TABLE` (required)
 * - `MAILROOM_SMTP_PREFIX` (default `smtp/`), `MAILROOM_SES_PREFIX` (default `ses/`)
 * - `MAILROOM_EVENT_BUS`: publish `mailroom.received` / `mailroom.routed` (source `mailroom`) there
 * - `MAILROOM_RETENTION_DAYS`: records expire that many days after receipt (DynamoDB TTL)
 * - `MAILROOM_FORWARD_FROM`: the verified SES address `forward()` sends from
 * - `MAILROOM_SES_CONFIGURATION_SET`: SES configuration set for handlers' replies (`ctx.reply`, always sent
 *   through SES here; the config's `outbound.mode` is for local and self-hosted processing)
 * - `MAILROOM_LOG_LEVEL`: debug, info (default), warn, error
 * - `MAILROOM_REPLY_KEY_SECRET_ARN`: a Secrets Manager secret whose string becomes `MAILROOM_REPLY_KEY`
 *   before the config loads (the config reads it); the function's role may read that secret
 * - the SDK's own: `AWS_REGION`, and `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB` for emulators
 *   (path-style S3 URLs are used whenever an S3 endpoint is set).
 *
 * Cold start: only what processing needs is imported here (no mailauth: verdicts come with the message;
 * mail without them loads it on first use).
 *
 * In a Lambda runtime the processor is built during the init phase ({@link initProcessHandler}): a
 * development or weak reply key, a missing variable or a bad config fails the init with one line in the
 * log, before any message is taken (SQS keeps the messages and retries them).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';
import { loadProcessorCloudPorts } from '../lib/aws/aws-port-loader.ts';
import type { MailroomEvent } from '../lib/aws/mailroom-events.ts';
import { EventShapeError } from '../lib/aws/processor-errors.ts';
import { processorOutbound } from '../lib/aws/processor-outbound.ts';
import type { SecretsClient } from '../lib/aws/secrets-manager-users.ts';
import {
  type SesLambdaEvent,
  type SqsEvent,
  sesLambdaEventSchema,
  sqsEventSchema,
} from '../lib/aws/sqs-event-schemas.ts';
import {
  createSqsProcessor,
  type SesLambdaResult,
  type SqsProcessor,
  type SqsProcessorOptions,
} from '../lib/aws/sqs-processor.ts';
import { createConsoleLogger } from '../lib/cli/console-logger.ts';
import { resolveConfig } from '../lib/config/resolve-config.ts';
import type { MailroomConfig, MailroomOptions } from '../lib/config/types.ts';
import type { Logger } from '../lib/kernel/index.ts';
import { assertProductionReplyKeys } from '../lib/routing/reply-keys.ts';

/** A setting of the processor's environment is missing or invalid; the message names the variable. */
export class ProcessEnvError extends Error {
  override readonly name = 'ProcessEnvError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));
const prefix = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : v))
    .refine((v) => !v.startsWith('/'), { message: 'must not start with /' });

/** The environment the processor reads, validated once (see the module comment). */
export const processEnvSchema = z.object({
  MAILROOM_RAW_BUCKET: z.string({ error: 'required' }).trim().min(1, { message: 'required' }),
  MAILROOM_TABLE: z.string({ error: 'required' }).trim().min(1, { message: 'required' }),
  MAILROOM_SMTP_PREFIX: prefix('smtp/'),
  MAILROOM_SES_PREFIX: prefix('ses/'),
  MAILROOM_EVENT_BUS: optionalText,
  MAILROOM_RETENTION_DAYS: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? Number(v) : undefined))
    .refine((v) => v === undefined || (Number.isInteger(v) && v > 0), {
      message: 'must be a whole number of days > 0',
    }),
  MAILROOM_FORWARD_FROM: optionalText,
  MAILROOM_SES_CONFIGURATION_SET: optionalText,
  AWS_ENDPOINT_URL_S3: optionalText,
  AWS_ENDPOINT_URL: optionalText,
});

export type ProcessEnv = z.infer<typeof processEnvSchema>;

/** @throws ProcessEnvError naming every bad variable. */
export function parseProcessEnv(env: Record<string, string | undefined>): ProcessEnv {
  const parsed = processEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new ProcessEnvError(`processor environment: ${problems.join('; ')}`, { cause: parsed.error });
}

export interface ProcessHandlerOptions {
  /** The options a config file exports (validated on the first event). @default the `mailroom-config` module */
  config?: MailroomOptions;
  /** Where settings come from. @default process.env */
  env?: Record<string, string | undefined>;
  /** @default new S3Client({ forcePathStyle: <an endpoint is set> }) (region and endpoint from the env) */
  s3?: S3Client;
  /** @default new DynamoDBClient({}) (region and endpoint from the env) */
  dynamo?: DynamoDBClient;
  /** @default EventBridge `PutEvents` on `MAILROOM_EVENT_BUS` when set, else no events */
  emit?: (events: MailroomEvent[]) => Promise<void>;
  /** @default JSON lines on stderr at `MAILROOM_LOG_LEVEL` */
  logger?: Logger;
  /**
   * Passed to the processor as they are: outbound mail (default: SES, see `processorOutbound`), clock,
   * size limit, and the AWS action ports
   * (default: an SDK client for each of `lambda()`, `eventBridge()`, `forward()` the routes use).
   */
  processor?: Pick<SqsProcessorOptions, 'cloud' | 'outbound' | 'now' | 'maxMessageBytes'>;
}

export type ProcessResult = SQSBatchResponse | SesLambdaResult;

/** The Lambda handler: an SQS batch, or a receipt rule's Lambda action event. */
export type ProcessHandler = (event: unknown) => Promise<ProcessResult>;

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Tells the two event kinds apart and validates the one it is. */
function parseEvent(event: unknown): { sqs: SqsEvent } | { ses: SesLambdaEvent } {
  const first = (event as { Records?: Array<{ eventSource?: unknown }> } | null)?.Records?.[0];
  if (first?.eventSource === 'aws:ses') {
    const ses = sesLambdaEventSchema.safeParse(event);
    if (ses.success) return { ses: ses.data };
    throw new EventShapeError(`not a valid SES receipt event: ${issues(ses.error)}`);
  }
  const sqs = sqsEventSchema.safeParse(event);
  if (sqs.success) return { sqs: sqs.data };
  throw new EventShapeError(`not an SQS event or an SES receipt event: ${issues(sqs.error)}`);
}

/** The user's config module, loaded on demand: a reply key read from Secrets Manager must be in place first. */
async function userConfig(): Promise<MailroomOptions> {
  return (await import('mailroom-config')).default;
}

async function buildProcessor(
  options: ProcessHandlerOptions,
  resolved?: MailroomConfig,
): Promise<SqsProcessor> {
  const env = parseProcessEnv(options.env ?? process.env);
  const logger = options.logger ?? createConsoleLogger();
  const s3 =
    options.s3 ?? new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL) });
  const dynamo = options.dynamo ?? new DynamoDBClient({});
  let emit = options.emit;
  if (!emit && env.MAILROOM_EVENT_BUS) {
    // Loaded only when events are on.
    const [{ EventBridgeClient }, { eventBridgeEmitter }] = await Promise.all([
      import('@aws-sdk/client-eventbridge'),
      import('../lib/aws/event-bridge-emitter.ts'),
    ]);
    emit = eventBridgeEmitter({ client: new EventBridgeClient({}), eventBusName: env.MAILROOM_EVENT_BUS });
  }
  resolved ??= resolveConfig(options.config ?? (await userConfig()));
  // The ports hand on where a message's raw object is; the processor knows once it exists.
  let processor: SqsProcessor | undefined;
  const cloud =
    options.processor && 'cloud' in options.processor
      ? options.processor.cloud
      : await loadProcessorCloudPorts(resolved, {
          ...(env.MAILROOM_FORWARD_FROM === undefined ? {} : { forwardFrom: env.MAILROOM_FORWARD_FROM }),
          rawLocation: (id) => processor?.rawLocation(id) ?? null,
        });
  const processorOptions: SqsProcessorOptions = {
    outbound: processorOutbound({
      ...(env.MAILROOM_SES_CONFIGURATION_SET === undefined
        ? {}
        : { configurationSetName: env.MAILROOM_SES_CONFIGURATION_SET }),
    }),
    ...options.processor,
    config: resolved,
    s3,
    dynamo,
    tableName: env.MAILROOM_TABLE,
    rawBucket: env.MAILROOM_RAW_BUCKET,
    smtpPrefix: env.MAILROOM_SMTP_PREFIX,
    sesPrefix: env.MAILROOM_SES_PREFIX,
    logger,
  };
  if (env.MAILROOM_RETENTION_DAYS !== undefined) processorOptions.retentionDays = env.MAILROOM_RETENTION_DAYS;
  if (emit) processorOptions.emit = emit;
  if (cloud) processorOptions.cloud = cloud;
  processor = createSqsProcessor(processorOptions);
  return processor;
}

/**
 * A handler with injected parts (tests, custom entry points). The processor is built on the first event
 * (settings validated then); a build that failed is tried again on the next event.
 */
export function createProcessHandler(options: ProcessHandlerOptions = {}): ProcessHandler {
  let processor: Promise<SqsProcessor> | undefined;
  return async (event) => {
    const parsed = parseEvent(event);
    processor ??= buildProcessor(options).catch((err: unknown) => {
      processor = undefined;
      throw err;
    });
    const p = await processor;
    return 'sqs' in parsed ? p(parsed.sqs) : p.ses(parsed.ses);
  };
}

/** What {@link initProcessHandler} needs beyond the handler's options. */
export interface ProcessInitOptions extends ProcessHandlerOptions {
  /** Reads `MAILROOM_REPLY_KEY_SECRET_ARN`. @default a new SecretsManagerClient (only when a secret is named) */
  secrets?: SecretsClient;
}

/**
 * The handler as a Lambda init builds it, so that a bad setting fails the init rather than every batch:
 * the reply key secret is read into `MAILROOM_REPLY_KEY` first, then the config is loaded (it may read that
 * variable), development and weak reply keys are refused, and the processor is built.
 * @throws InsecureReplyKeyError, ReplyKeySecretError, ProcessEnvError or ConfigError, one line each.
 */
export async function initProcessHandler(options: ProcessInitOptions = {}): Promise<ProcessHandler> {
  const env = options.env ?? process.env;
  const { loadReplyKeySecret } = await import('../lib/aws/reply-key-secret.ts');
  await loadReplyKeySecret(env, async () => {
    if (options.secrets) return options.secrets;
    const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    return new SecretsManagerClient({});
  });
  const resolved = resolveConfig(options.config ?? (await userConfig()));
  assertProductionReplyKeys(resolved.replyAddress?.keys);
  const processor = await buildProcessor(options, resolved);
  return async (event) => {
    const parsed = parseEvent(event);
    return 'sqs' in parsed ? processor(parsed.sqs) : processor.ses(parsed.ses);
  };
}

/**
 * The Lambda entry point (`functions/process.handler`). Lambda sets `AWS_LAMBDA_FUNCTION_NAME`: there the
 * processor is built at init (top-level await); elsewhere (tests, a custom entry) on the first event.
 */
export const handler: ProcessHandler = process.env.AWS_LAMBDA_FUNCTION_NAME
  ? await initProcessHandler()
  : createProcessHandler();
