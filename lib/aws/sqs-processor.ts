import type { SQSBatchResponse } from 'aws-lambda';
import { errorText, isRetryable, silentLogger } from '../kernel/index.ts';
import {
  createMessageProcessor,
  type MessageProcessor,
  type MessageProcessorOptions,
} from './message-processor.ts';
import { processPartialResponse } from './partial-batch.ts';
import { MessageProcessingError } from './processor-errors.ts';
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
   * (the event source mapping must report batch item failures): a record whose message failed in a way a
   * retry may mend (the retry skips deliveries already made), whose body is not understood, whose object
   * is missing, or whose processing threw (DynamoDB unavailable…); the last three reach the dead-letter
   * queue after the queue's receives. With a retry queue (`MAILROOM_QUEUE_URL`), a message whose delivery
   * failed transiently is rescheduled there and its record acknowledged (see `retry-deliveries.ts`). A
   * message that failed for good (every failed delivery failed with a
   * permanent error) is recorded as `failed` for `mailroom replay` and acknowledged. A message processed
   * before is acknowledged without doing anything again. Records are processed concurrently up to the
   * config's `delivery.concurrency`; meant for a standard queue (a FIFO queue would need records in order,
   * stopping at the first failure).
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
  /** Where the raw object of a message being processed is (see `MessageProcessor.rawLocation`). */
  rawLocation(id: string): ObjectLocation | null;
  /** Stops processing; the clients stay open (the caller owns them). */
  close(): Promise<void>;
}

/**
 * Whether SQS should deliver a record again after `err`: yes, unless its message is recorded as failed
 * for good (retrying cannot help, and `mailroom replay` finds it). An event nobody can process is
 * reported too, so that it ends in the dead-letter queue rather than nowhere.
 */
export function redeliver(err: unknown): boolean {
  return !(err instanceof MessageProcessingError && err.keptForReplay && !isRetryable(err));
}

/**
 * Builds the processor: DynamoDB records, S3 raw objects, the processing core with one try per delivery
 * (see `lambdaConfig`), and the event handling described on {@link SqsProcessor}.
 */
export function createSqsProcessor(options: SqsProcessorOptions): SqsProcessor {
  const logger = options.logger ?? silentLogger;
  const core: MessageProcessor = createMessageProcessor(options);
  const itemOptions: WorkItemOptions = {
    rawBucket: options.rawBucket,
    smtpPrefix: options.smtpPrefix ?? 'smtp/',
    sesPrefix: options.sesPrefix ?? 'ses/',
  };

  const handleRecord = async (record: SqsRecord): Promise<void> => {
    const work = workItemsFromBody(record.body, itemOptions);
    for (const reason of work.ignored) {
      logger.info('acknowledged without processing', { record: record.messageId, reason });
    }
    for (const item of work.items) {
      const o = await core.process(item);
      const what = o.retryAt ? 'rescheduled' : o.duplicate ? 'already processed' : 'processed';
      logger.info(what, { record: record.messageId, id: o.id, ...(o.retryAt ? { retryAt: o.retryAt } : {}) });
    }
  };

  const onFailure = (record: SqsRecord, err: unknown): 'report' | 'acknowledge' => {
    const messageId = (err as { messageId?: unknown }).messageId;
    const again = redeliver(err);
    logger.error(
      again
        ? 'queue message not processed; SQS will deliver it again'
        : 'message failed for good; kept for replay, not delivered again',
      {
        record: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        ...(typeof messageId === 'string' ? { id: messageId } : {}),
        error: errorText(err),
      },
    );
    return again ? 'report' : 'acknowledge';
  };

  const handle = (event: SqsEvent): Promise<SQSBatchResponse> =>
    processPartialResponse(event, handleRecord, { concurrency: core.concurrency, onFailure });

  const ses = async (event: SesLambdaEvent): Promise<SesLambdaResult> => {
    for (const record of event.Records) {
      await core.process(workItemFromSes(record.ses.mail, record.ses.receipt, undefined, itemOptions));
    }
    return { disposition: 'CONTINUE' };
  };

  return Object.assign(handle, {
    ses,
    rawLocation: (id: string) => core.rawLocation(id),
    close: () => core.close(),
  });
}
