import { describe, expect, it } from 'vitest';
import { processPartialResponse } from '../../../lib/aws/partial-batch.ts';
import { EventShapeError, MessageProcessingError } from '../../../lib/aws/processor-errors.ts';
import { redeliver } from '../../../lib/aws/sqs-processor.ts';

const records = ['a', 'b', 'c', 'd'].map((messageId) => ({ messageId, body: messageId }));

describe('processPartialResponse', () => {
  it('reports the records whose handler threw, in batch order, at most `concurrency` at once', async () => {
    let running = 0;
    let most = 0;
    const out = await processPartialResponse(
      { Records: records },
      async (r) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, r.body === 'a' ? 20 : 1));
        running -= 1;
        if (r.body === 'c' || r.body === 'a') throw new Error(`${r.body} failed`);
      },
      { concurrency: 2, onFailure: () => 'report' },
    );
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'c' }] });
    expect(most).toBe(2);
  });

  it('acknowledges a failed record when onFailure says so', async () => {
    const out = await processPartialResponse(
      { Records: records },
      async (r) => {
        throw new Error(r.body);
      },
      { concurrency: 4, onFailure: (r) => (r.body === 'b' ? 'acknowledge' : 'report') },
    );
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a', 'c', 'd']);
  });
});

describe('redeliver (the batch failure decision)', () => {
  it('acknowledges only a message recorded as failed for good', () => {
    const failedForGood = new MessageProcessingError('message m failed', {
      messageId: 'm',
      retryable: false,
      keptForReplay: true,
    });
    expect(redeliver(failedForGood)).toBe(false);
    const transient = new MessageProcessingError('message m failed', { messageId: 'm', keptForReplay: true });
    expect(redeliver(transient)).toBe(true);
    // Nothing recorded: SQS keeps it, and the dead-letter queue gets it after the queue's receives.
    expect(redeliver(new EventShapeError('not JSON'))).toBe(true);
    expect(redeliver(new MessageProcessingError('no envelope', { retryable: false }))).toBe(true);
    expect(redeliver(new Error('DynamoDB unavailable'))).toBe(true);
  });
});
