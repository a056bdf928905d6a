import type { ResolvedRetryOptions } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import type { DeliveryRetries, ProcessOutcome } from '../pipeline/index.ts';
import type { DeliveryRecord } from '../store/index.ts';
import type { DynamoMessageStore } from './dynamo-message-store.ts';
import { type RetryMessage, type RetryQueue, sqsDelaySeconds } from './retry-queue.ts';
import { afterFailure, attemptDue } from './retry-schedule.ts';
import type { WorkItem } from './work-items.ts';

export interface ProcessorRetriesOptions {
  store: DynamoMessageStore;
  queue: RetryQueue;
  retry: ResolvedRetryOptions;
  now: () => Date;
  random: () => number;
  logger: Logger;
}

/**
 * The processor's retries across invocations: a transient failure is recorded on the delivery's item
 * (`retry-schedule.ts` says when to try next) and the message is sent back onto the queue for that time,
 * instead of failing it for SQS's redelivery (minutes apart, then the dead-letter queue). Later runs try
 * only the deliveries whose time has come; the others were delivered (skipped by their keys) or wait.
 *
 * A crash between sending the message back and acknowledging the record lets SQS deliver the record again,
 * which sends the message back once more: two chains then run side by side. Each run still tries only
 * what is due, and a delivery is made once by its key; two runs at the same moment could both call the
 * endpoint, with the same idempotency key.
 */
export class ProcessorRetries implements DeliveryRetries {
  readonly #o: ProcessorRetriesOptions;

  constructor(options: ProcessorRetriesOptions) {
    this.#o = options;
  }

  async due(d: DeliveryRecord): Promise<boolean> {
    return attemptDue(await this.#o.store.getDeliveryRetry(d.messageId, d.key), this.#o.now());
  }

  async reschedule(d: DeliveryRecord): Promise<{ nextAttemptAt: string } | null> {
    const { store, retry, now, random } = this.#o;
    const previous = await store.getDeliveryRetry(d.messageId, d.key);
    const state = afterFailure(previous, now(), retry, random);
    await store.putDeliveryRetry(d.messageId, d.key, state);
    return state.nextAttemptAt === undefined ? null : { nextAttemptAt: state.nextAttemptAt };
  }

  /** The earliest next attempt of a run's deliveries left pending; null when none waits. */
  async nextAttempt(outcome: ProcessOutcome): Promise<Date | null> {
    const pending = outcome.deliveries.filter((d) => d.status === 'pending');
    const states = await Promise.all(pending.map((d) => this.#o.store.getDeliveryRetry(d.messageId, d.key)));
    const times = states.map((s) => (s?.nextAttemptAt ? Date.parse(s.nextAttemptAt) : Number.NaN));
    if (times.length === 0 || times.some(Number.isNaN)) return times.length ? this.#o.now() : null;
    return new Date(Math.min(...times));
  }

  /**
   * Sends the message back onto the queue for `at` (a chain of delayed messages past 15 minutes).
   * @throws the queue's error: the caller fails the record, and SQS delivers the original again.
   */
  async sendBack(item: WorkItem, at: Date): Promise<void> {
    const delaySeconds = await sendRetry(this.#o.queue, item, at, this.#o.now());
    this.#o.logger.info('message rescheduled', { id: item.id, notBefore: at.toISOString(), delaySeconds });
  }
}

/**
 * Sends the message of `item` back onto the queue, to be run at `notBefore` (or, beyond SQS's longest
 * delay, to be sent on again then). Returns the delay it was sent with.
 */
async function sendRetry(queue: RetryQueue, item: WorkItem, notBefore: Date, now: Date) {
  const delaySeconds = sqsDelaySeconds(notBefore, now);
  const retry: RetryMessage = {
    id: item.id,
    origin: item.origin,
    bucket: item.object.bucket,
    key: item.object.key,
    notBefore: notBefore.toISOString(),
    delaySeconds,
  };
  if (item.envelope) retry.envelope = { mailFrom: item.envelope.mailFrom, rcptTo: [...item.envelope.rcptTo] };
  if (item.receivedAt !== undefined) retry.receivedAt = item.receivedAt;
  await queue.send(JSON.stringify({ mailroomRetry: retry }), delaySeconds);
  return delaySeconds;
}
