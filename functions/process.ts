/**
 * The processing Lambda: SQS batches of stored-message notifications (S3 events from `mailroom smtp`, SES
 * receipt notifications through SNS), or a receipt rule's Lambda action invoking it directly.
 *
 * Thin on purpose: each event is validated (zod schemas in `lib/aws/sqs-event-schemas.ts`), the settings are
 * read from the environment once (`lib/aws/process-env.ts`, which lists them), and the records are handed
 * to `lib/aws/sqs-processor.ts`. `mailroom-config` is the user's config module (an alias: tsconfig `paths`
 * and the vitest alias map it to `examples/mailroom.config.ts`; the CDK bundles the user's file in its
 * place); it is loaded on demand, after a reply key read from Secrets Manager is in place.
 *
 * Cold start: only what processing needs is imported here (no mailauth: verdicts come with the message;
 * mail without them loads it on first use).
 */

import { LambdaLogger } from '../lib/aws/observability/lambda-logger.ts';
import {
  createProcessHandler as createHandler,
  initProcessHandler as initHandler,
  type ProcessEntry,
  type ProcessHandler,
  type ProcessHandlerOptions,
  type ProcessInitOptions,
} from '../lib/aws/process-handler.ts';

export type {
  ProcessHandler,
  ProcessHandlerOptions,
  ProcessInitOptions,
  ProcessResult,
} from '../lib/aws/process-handler.ts';
export { ProcessEnvError } from '../lib/aws/processor-errors.ts';

const entry: ProcessEntry = {
  userConfig: async () => (await import('mailroom-config')).default,
  logger: () => new LambdaLogger(),
};

/** A handler with injected parts (tests, custom entry points), built on the first event. */
export function createProcessHandler(options: ProcessHandlerOptions = {}): ProcessHandler {
  return createHandler(options, entry);
}

/** The handler as a Lambda init builds it (see `lib/aws/process-handler.ts`). */
export function initProcessHandler(options: ProcessInitOptions = {}): Promise<ProcessHandler> {
  return initHandler(options, entry);
}

/**
 * The Lambda entry point (`functions/process.handler`). Lambda sets `AWS_LAMBDA_FUNCTION_NAME`: there the
 * processor is built at init (top-level await); elsewhere (tests, a custom entry) on the first event.
 */
export const handler: ProcessHandler = process.env.AWS_LAMBDA_FUNCTION_NAME
  ? await initProcessHandler()
  : createProcessHandler();
