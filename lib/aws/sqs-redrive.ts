/**
 * `mailroom redrive`: moves the messages of the dead-letter queue back to the processing queue, where the
 * processor takes them again (deliveries already delivered are skipped: processing is idempotent).
 *
 * Two ways, chosen per run:
 * - SQS's own `StartMessageMoveTask` (the console's "Start DLQ redrive"): SQS moves every message, then
 *   this waits for the task to finish and reports its count. Used when no `max` is given.
 * - receive → send → delete, up to 10 at a time: used when `max` bounds the run (a move task cannot be
 *   bounded), or when the move task cannot be started (an SQS endpoint without it, such as an emulator, or
 *   credentials without `sqs:StartMessageMoveTask`). A message is deleted from the dead-letter queue only
 *   once the main queue took it, so a failure part-way loses nothing (a message may arrive twice).
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { errorText } from '../kernel/index.ts';
import { RedriveError } from './operations-errors.ts';

export interface RedriveOptions {
  sqs: SQSClient;
  deadLetterQueueUrl: string;
  queueUrl: string;
  /** Move at most this many messages (receive → send → delete). @default all of them */
  max?: number;
  /** How often a move task's progress is read. @default 2000 */
  pollMs?: number;
  /** How long to wait for a move task before reporting it still running. @default 600_000 (10 min) */
  waitMs?: number;
}

export interface RedriveReport {
  /** Messages moved (for a move task: SQS's approximate count). */
  moved: number;
  method: 'StartMessageMoveTask' | 'receive-send-delete';
  /** Why the fallback was used, or that a move task is still running. */
  note?: string;
}

/** Moves dead-lettered messages back; see the file comment for which way. @throws RedriveError */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveReport> {
  if (options.max !== undefined) {
    return { moved: await moveByHand(options, options.max), method: 'receive-send-delete' };
  }
  let why: string;
  try {
    return await moveTask(options);
  } catch (err) {
    if (err instanceof RedriveError) throw err;
    why = `StartMessageMoveTask unavailable (${errorText(err)})`;
  }
  const moved = await moveByHand(options, Number.POSITIVE_INFINITY);
  return { moved, method: 'receive-send-delete', note: why };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`${queueUrl} has no QueueArn attribute`);
  return arn;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts SQS's move task and waits for it. Errors before it started are the caller's cue to fall back. */
async function moveTask(options: RedriveOptions): Promise<RedriveReport> {
  const { sqs } = options;
  const [source, destination] = await Promise.all([
    queueArn(sqs, options.deadLetterQueueUrl),
    queueArn(sqs, options.queueUrl),
  ]);
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: source, DestinationArn: destination }));
  const method = 'StartMessageMoveTask';
  const deadline = Date.now() + (options.waitMs ?? 600_000);
  for (;;) {
    let task:
      | { Status?: string; ApproximateNumberOfMessagesMoved?: number; FailureReason?: string }
      | undefined;
    try {
      const out = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: source, MaxResults: 1 }));
      task = out.Results?.[0];
    } catch (cause) {
      throw new RedriveError(`the move task started; reading its progress failed: ${errorText(cause)}`, 0, {
        cause,
      });
    }
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    if (task?.Status === 'FAILED') {
      throw new RedriveError(
        `the move task failed after ${moved}: ${task.FailureReason ?? 'no reason given'}`,
        moved,
      );
    }
    if (task && task.Status !== 'RUNNING') return { moved, method };
    if (Date.now() >= deadline) return { moved, method, note: 'the move task is still running' };
    await sleep(options.pollMs ?? 2000);
  }
}

/** Receive → send → delete, 10 at a time, until the dead-letter queue answers empty or `max` moved. */
async function moveByHand(options: RedriveOptions, max: number): Promise<number> {
  const { sqs, deadLetterQueueUrl, queueUrl } = options;
  let moved = 0;
  while (moved < max) {
    let batch: Message[];
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          MaxNumberOfMessages: Math.min(10, max - moved),
          WaitTimeSeconds: 1,
          VisibilityTimeout: 60,
          MessageAttributeNames: ['All'],
        }),
      );
      batch = out.Messages ?? [];
      if (batch.length === 0) return moved;
      moved += await sendThenDelete(sqs, queueUrl, deadLetterQueueUrl, batch);
    } catch (cause) {
      if (cause instanceof RedriveError)
        throw new RedriveError(cause.message, moved + cause.moved, { cause });
      throw new RedriveError(`redrive stopped after ${moved}: ${errorText(cause)}`, moved, { cause });
    }
  }
  return moved;
}

/** Sends a received batch to the main queue and deletes what it took. @returns how many moved */
async function sendThenDelete(
  sqs: SQSClient,
  queueUrl: string,
  deadLetterQueueUrl: string,
  batch: Message[],
): Promise<number> {
  const sent = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: batch.map((m, i) => ({
        Id: String(i),
        MessageBody: m.Body ?? '',
        ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
      })),
    }),
  );
  const taken = (sent.Successful ?? []).map((s) => batch[Number(s.Id)]!);
  if (taken.length) {
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: deadLetterQueueUrl,
        Entries: taken.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    if (deleted.Failed?.length) {
      // Sent but still in the dead-letter queue: they come back after the visibility timeout (twice).
      const f = deleted.Failed[0]!;
      throw new RedriveError(
        `deleting moved messages failed: ${f.Code} ${f.Message ?? ''}`.trim(),
        taken.length,
      );
    }
  }
  if (sent.Failed?.length) {
    const f = sent.Failed[0]!;
    throw new RedriveError(
      `the main queue refused a message: ${f.Code} ${f.Message ?? ''}`.trim(),
      taken.length,
    );
  }
  return taken.length;
}
