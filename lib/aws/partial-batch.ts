import type { SQSBatchResponse } from 'aws-lambda';

/** What {@link processPartialResponse} tells about a record whose handler threw. */
export type RecordFailureReport<R> = (record: R, err: unknown) => 'report' | 'acknowledge';

/**
 * Runs `handle` on every record of an SQS batch, at most `concurrency` at once, each on its own, and
 * answers with the records SQS should deliver again (`batchItemFailures`, in the batch's order): the shape
 * of Powertools' `processPartialResponse`, without its dependency. A record whose handler resolves is
 * acknowledged; one whose handler throws is reported unless `onFailure` says to acknowledge it.
 */
export async function processPartialResponse<R extends { messageId: string }>(
  event: { Records: R[] },
  handle: (record: R) => Promise<void>,
  options: { concurrency: number; onFailure: RecordFailureReport<R> },
): Promise<SQSBatchResponse> {
  const failed = new Set<string>();
  const records = event.Records;
  let next = 0;
  const worker = async () => {
    while (next < records.length) {
      const record = records[next++] as R;
      try {
        await handle(record);
      } catch (err) {
        if (options.onFailure(record, err) === 'report') failed.add(record.messageId);
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, records.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return {
    batchItemFailures: records
      .filter((r) => failed.has(r.messageId))
      .map((r) => ({ itemIdentifier: r.messageId })),
  };
}
