import type { SQSBatchResponse } from 'aws-lambda';
import { errorText, silentLogger } from '../kernel/index.ts';
import {
  createMessageProcessor,
  type ItemOutcome,
  type MessageProcessor,
  type MessageProcessorOptions,
} from './message-processor.ts';
import type { SesLambdaEvent, SqsEvent, SqsRecord } from './sqs-event-schemas.ts';
import {
  type ObjectLocation,
  type WorkItemOptions,
  workItemFromSes,
  workItemsFromBody,
} from './work-items.ts';

/** What a receipt rule's Lambda action gets back (read by SES only for `RequestResponse` invocations). */
export interface SesLambdaResult {
  disposition: 'CONTINUE' | 'STOP_RULE' | 'STOP_RULE_SET';
}

export type SqsProcessorOptions = MessageProcessorOptions;

/**
 * The processing Lambda's logic: `(event) => SQSBatchResponse` for the queue, plus `ses(event)` for a
 * receipt rule that invokes the function directly.
 */
export interface SqsProcessor {
  /**
   * Processes an SQS batch; every record is handled on its own. The response lists the records to retry
   * (the event source mapping must report batch item failures): a record whose message failed (a delivery
   * failed; the retry skips deliveries already made), whose body is not understood, whose object is missing,
   * or whose processing threw (DynamoDB unavailable…). A message processed before is acknowledged without
   * doing anything again. Records are processed concurrently up to the config's `delivery.concurrency`;
   * meant for a standard queue (a FIFO queue would need records in order, stopping at the first failure).
   */
  (event: SqsEvent): Promise<SQSBatchResponse>;
  /**
   * Processes a receipt rule's Lambda action event. The event has no message bytes: they are read from
   * `<sesPrefix><mail.messageId>` in the raw bucket, so the rule needs an S3 action (bucket = the raw
   * bucket, prefix = `sesPrefix`) before the Lambda action.
   * @returns `{ disposition: 'CONTINUE' }` once processed.
   * @throws when the message could not be processed: an `Event` invocation is then retried by Lambda.
   */
  ses(event: SesLambdaEvent): Promise<SesLambdaResult>;
  /** Where message `id`'s raw object is (see `MessageProcessor.rawLocation`). */
  rawLocation(id: string): ObjectLocation;
  /** Stops the pipeline; the clients stay open (the caller owns them). */
  close(): Promise<void>;
}

/** Runs `fn` on every element, at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Builds the processor: DynamoDB records, S3 raw objects, the pipeline with one try per delivery (see
 * `lambdaConfig`), and the event handling described on {@link SqsProcessor}.
 */
export function createSqsProcessor(options: SqsProcessorOptions): SqsProcessor {
  const logger = options.logger ?? silentLogger;
  const core: MessageProcessor = createMessageProcessor(options);
  const itemOptions: WorkItemOptions = {
    rawBucket: options.rawBucket,
    smtpPrefix: options.smtpPrefix ?? 'smtp/',
    sesPrefix: options.sesPrefix ?? 'ses/',
  };

  const handleRecord = async (record: SqsRecord): Promise<boolean> => {
    try {
      const work = workItemsFromBody(record.body, itemOptions);
      for (const reason of work.ignored) {
        logger.info('acknowledged without processing', { record: record.messageId, reason });
      }
      const outcomes: ItemOutcome[] = [];
      for (const item of work.items) outcomes.push(await core.process(item));
      for (const o of outcomes) {
        logger.info(o.duplicate ? 'already processed' : 'processed', { record: record.messageId, id: o.id });
      }
      return true;
    } catch (err) {
      const messageId = (err as { messageId?: unknown }).messageId;
      logger.error('queue message not processed; SQS will deliver it again', {
        record: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        ...(typeof messageId === 'string' ? { id: messageId } : {}),
        error: errorText(err),
      });
      return false;
    }
  };

  const handle = async (event: SqsEvent): Promise<SQSBatchResponse> => {
    const failed = new Set<string>();
    await eachLimited(event.Records, core.concurrency, async (record) => {
      if (!(await handleRecord(record))) failed.add(record.messageId);
    });
    return {
      batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
        itemIdentifier: r.messageId,
      })),
    };
  };

  const ses = async (event: SesLambdaEvent): Promise<SesLambdaResult> => {
    for (const record of event.Records) {
      await core.process(workItemFromSes(record.ses.mail, record.ses.receipt, undefined, itemOptions));
    }
    return { disposition: 'CONTINUE' };
  };

  return Object.assign(handle, { ses, rawLocation: core.rawLocation, close: () => core.close() });
}
