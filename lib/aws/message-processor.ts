import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AuthVerdicts } from '../auth/index.ts';
import {
  DEFAULT_ATTACHMENTS,
  DEFAULT_CONCURRENCY,
  DEFAULT_RETRY,
  type MailroomConfig,
} from '../config/index.ts';
import type { Envelope, Logger } from '../kernel/index.ts';
import { errorText, silentLogger } from '../kernel/index.ts';
import type { OutboundMail } from '../outbound/index.ts';
import {
  type AttachmentPorts,
  createProcessingPorts,
  type MessageInput,
  type PipelineDeps,
  type PipelineEvent,
  type ProcessingPorts,
  type ProcessOutcome,
  processMessage,
  recordArrival,
} from '../pipeline/index.ts';
import type { MessageDetail, MessageStatus } from '../store/index.ts';
import { DynamoMessageStore } from './dynamo-message-store.ts';
import {
  deliveryFailedEvent,
  type EmitEvents,
  type MailroomEvent,
  receivedEvent,
  routedEvent,
} from './mailroom-events.ts';
import { MessageProcessingError } from './processor-errors.ts';
import { ProcessorRetries } from './retry-deliveries.ts';
import type { RetryQueue } from './retry-queue.ts';
import { S3AttachmentStore } from './s3-attachment-store.ts';
import { s3AttachmentPorts } from './s3-attachment-urls.ts';
import { putS3ObjectOnce, readS3Object } from './s3-objects.ts';
import { smtpObjectMeta } from './smtp-object-meta.ts';
import type { ObjectLocation, WorkItem } from './work-items.ts';

export interface MessageProcessorOptions {
  /** The resolved Mailroom config (routes, handlers, parse limits). */
  config: MailroomConfig;
  s3: S3Client;
  dynamo: DynamoDBClient;
  /** The DynamoDB table of records (`MAILROOM_TABLE`). */
  tableName: string;
  /** The raw bucket (`MAILROOM_RAW_BUCKET`). */
  rawBucket: string;
  /** @default 'smtp/' */
  smtpPrefix?: string;
  /** @default 'ses/' */
  sesPrefix?: string;
  /** Records expire this many days after they were received (DynamoDB TTL). @default never */
  retentionDays?: number;
  /**
   * Where attachments are kept and how payloads link them. Null: described only, not kept.
   * @default the mail bucket's `attachments/` with presigned GET URLs valid `attachments.urlExpiresIn`
   * (none when the config's `attachments.store` is false)
   */
  attachments?: AttachmentPorts | null;
  /** The AWS action ports (Lambda invoke, EventBridge, forward). */
  cloud?: PipelineDeps['cloud'];
  /** Where handlers' `ctx.reply` sends. @default none: `ctx.reply` throws `OutboundConfigError` */
  outbound?: OutboundMail;
  /**
   * Announces `mailroom.received` / `mailroom.routed` (see `mailroom-events.ts`). A failure to emit is
   * logged and does not fail the message.
   * @default no events
   */
  emit?: EmitEvents;
  /** @default a logger that discards everything */
  logger?: Logger;
  /**
   * Sees every pipeline event of the messages processed, with the message's receipt time (metrics: see
   * `observability/pipeline-metrics.ts`). @default none
   */
  observe?: (event: PipelineEvent, receivedAt: string | undefined) => void;
  /** @default () => new Date() */
  now?: () => Date;
  /** Random source for retry jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /**
   * The processing queue (`MAILROOM_QUEUE_URL`): a delivery that fails transiently is rescheduled there
   * (see `retry-deliveries.ts`, the config's `retry`) and its message acknowledged. Without it, the message
   * fails and SQS delivers it again after the visibility timeout (until the dead-letter queue).
   * @default none
   */
  retryQueue?: RetryQueue;
  /**
   * Largest raw message read from S3, in bytes (SES accepts up to 40 MB, `mailroom smtp` its
   * `smtp.maxMessageBytes`); a larger object fails its record, which ends in the dead-letter queue.
   * @default 52_428_800 (50 MiB)
   */
  maxMessageBytes?: number;
}

/** What became of one work item. */
export interface ItemOutcome {
  id: string;
  status: MessageStatus;
  /** True when the message had been processed before and nothing was done again. */
  duplicate: boolean;
  /** When it was sent back onto the queue: the time its next run is due (ISO 8601). */
  retryAt?: string;
}

export interface MessageProcessor {
  /**
   * Records the message as received (once), then runs the processing core on it with the bytes in hand.
   * Resolves when it is processed (now or before), or, with a retry queue, rescheduled (`retryAt`): a
   * delivery waits for its next attempt, or the item is a rescheduled message whose time has not come.
   * @throws MessageProcessingError when it failed (retryable unless every failure was permanent), or the
   * error of the store or S3 call that failed.
   */
  process(item: WorkItem): Promise<ItemOutcome>;
  /**
   * Where the raw object of a message being processed is: for actions that hand the location on
   * (`lambda()`, `eventBridge()` events). Null for a message not being processed.
   */
  rawLocation(id: string): ObjectLocation | null;
  /** Concurrency the caller should use for items (the config's `delivery.concurrency`). */
  readonly concurrency: number;
  /** Stops processing (running deliveries finish). The clients stay open: the caller owns them. */
  close(): Promise<void>;
}

/**
 * The config as the processor runs it: one try per delivery. Inside Lambda a retry with backoff sleeps
 * while billed: with a retry queue, a transient failure reschedules the message (see
 * `retry-deliveries.ts`); without one, it fails the message, the record becomes visible again after the
 * queue's visibility timeout, and the next run repeats only the deliveries not yet delivered (they are
 * idempotent), until the queue's `maxReceiveCount` moves it to the dead-letter queue.
 */
export function lambdaConfig(config: MailroomConfig): MailroomConfig {
  return { ...config, delivery: { ...config.delivery, attempts: 1 } };
}

/** The bytes, and what the ingress knew: SES from the event, `mailroom smtp` from the object's metadata. */
interface LoadedItem {
  raw: Buffer;
  envelope: Envelope;
  auth: AuthVerdicts | null;
  receivedAt: string | undefined;
}

/** Why a run did not end `processed`, naming the failed deliveries. */
function failure(outcome: ProcessOutcome, final = false): MessageProcessingError {
  const failed = outcome.deliveries
    .filter((d) => d.status === 'failed')
    .map((d) => `${d.route}/${d.action}: ${d.error ?? 'failed'}`);
  const { id, status } = outcome;
  return new MessageProcessingError(
    `message ${id} ${status === 'failed' ? 'failed' : `stopped while ${status}`}` +
      (failed.length ? ` (${failed.join('; ')})` : ''),
    {
      messageId: id,
      retryable: !final && (status !== 'failed' || outcome.retryable !== false),
      keptForReplay: status === 'failed',
    },
  );
}

async function loadItem(
  options: MessageProcessorOptions,
  item: WorkItem,
  logger: Logger,
): Promise<LoadedItem> {
  const where = `s3://${item.object.bucket}/${item.object.key}`;
  let raw: Buffer;
  let metadata: Record<string, string> = {};
  if (item.content) {
    const written = await putS3ObjectOnce(options.s3, item.object, item.content);
    logger.debug(written ? 'stored SNS content' : 'SNS content already stored', { id: item.id, where });
    raw = item.content;
  } else {
    const maxBytes = options.maxMessageBytes ?? 52_428_800;
    ({ data: raw, metadata } = await readS3Object(options.s3, item.object, maxBytes));
  }
  if (item.origin === 'smtp') {
    const meta = await smtpObjectMeta(options.s3, item.object, metadata);
    if (!meta) {
      throw new MessageProcessingError(`${where} has no envelope stored with it: it cannot be routed`, {
        messageId: item.id,
        retryable: false,
      });
    }
    return { raw, envelope: meta.envelope, auth: meta.auth, receivedAt: meta.receivedAt };
  }
  if (!item.envelope) {
    throw new MessageProcessingError(`${where}: the event carries no envelope`, {
      messageId: item.id,
      retryable: false,
    });
  }
  return { raw, envelope: item.envelope, auth: item.auth ?? null, receivedAt: item.receivedAt };
}

/** The attachment ports the processor runs with (see {@link MessageProcessorOptions.attachments}). */
function attachmentsOption(
  options: MessageProcessorOptions,
  config: MailroomConfig,
): { attachments?: AttachmentPorts } {
  if (options.attachments === null) return {};
  if (options.attachments !== undefined) return { attachments: options.attachments };
  const settings = config.attachments ?? DEFAULT_ATTACHMENTS;
  if (!settings.store) return {};
  const store = new S3AttachmentStore({ client: options.s3, bucket: options.rawBucket });
  return {
    attachments: s3AttachmentPorts({ client: options.s3, store, expiresIn: settings.urlExpiresIn }),
  };
}

/** The processing core's driver inside the Lambda; see {@link createMessageProcessor}. */
class LambdaDriver implements MessageProcessor {
  readonly concurrency: number;
  readonly #options: MessageProcessorOptions;
  readonly #logger: Logger;
  readonly #store: DynamoMessageStore;
  readonly #ports: ProcessingPorts;
  readonly #abort = new AbortController();
  /**
   * The messages being processed, by id: where their raw object is, when they were received (for
   * `observe`), and the pipeline events of their run.
   */
  readonly #inFlight = new Map<
    string,
    { object: ObjectLocation; receivedAt: string; events: PipelineEvent[] }
  >();
  /** One run per id at a time: a duplicate in the same batch waits, then finds the message processed. */
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #retries: ProcessorRetries | undefined;

  constructor(options: MessageProcessorOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    const config = lambdaConfig(options.config);
    this.concurrency = config.delivery.concurrency ?? DEFAULT_CONCURRENCY.lambda;
    const now = options.now === undefined ? {} : { now: options.now };
    this.#store = new DynamoMessageStore({
      client: options.dynamo,
      tableName: options.tableName,
      ...now,
      ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }),
    });
    if (options.retryQueue) {
      this.#retries = new ProcessorRetries({
        store: this.#store,
        queue: options.retryQueue,
        retry: config.retry ?? DEFAULT_RETRY,
        now: options.now ?? (() => new Date()),
        random: options.random ?? Math.random,
        logger: this.#logger,
      });
    }
    this.#ports = createProcessingPorts({
      config,
      store: this.#store,
      logger: this.#logger,
      ...now,
      ...(options.random === undefined ? {} : { random: options.random }),
      ...(options.cloud === undefined ? {} : { cloud: options.cloud }),
      ...(options.outbound === undefined ? {} : { outbound: options.outbound }),
      ...(this.#retries === undefined ? {} : { retries: this.#retries }),
      ...attachmentsOption(options, config),
      signal: this.#abort.signal,
      // Kept per run, they become EventBridge events at its end (see `mailroom-events.ts`); each is also
      // observed where it happens (metrics).
      emit: (e) => {
        const run = this.#inFlight.get(e.id);
        run?.events.push(e);
        this.#options.observe?.(e, run?.receivedAt);
      },
    });
  }

  /** Publishes events; a failure is logged and does not fail the message. */
  async #emit(events: MailroomEvent[]): Promise<void> {
    if (!this.#options.emit) return;
    try {
      await this.#options.emit(events);
    } catch (err) {
      this.#logger.warn('could not emit events', {
        types: events.map((e) => e.detailType),
        id: events[0]?.detail.id,
        error: errorText(err),
      });
    }
  }

  /** A retry: recorded before. Verdicts lost to a crash between recording and saving them are saved now. */
  async #again(item: WorkItem, loaded: LoadedItem, existing: MessageDetail): Promise<MessageInput> {
    const { id } = item;
    if (loaded.auth && !existing.auth) await this.#store.saveAuth(id, loaded.auth);
    this.#logger.info('processing again', { id, status: existing.status });
    const { envelope, receivedAt } = existing;
    return { id, raw: loaded.raw, envelope: { ...envelope }, auth: existing.auth ?? loaded.auth, receivedAt };
  }

  /** A first arrival: recorded as received, and announced as `mailroom.received`. */
  async #arrive(item: WorkItem, loaded: LoadedItem): Promise<MessageInput> {
    const { id, origin, object } = item;
    const { raw, envelope, auth } = loaded;
    const receivedAt = loaded.receivedAt ?? this.#ports.now().toISOString();
    const via = `${origin === 'ses' ? 'Amazon SES' : 'mailroom smtp'}, s3://${object.bucket}/${object.key}`;
    const announced: PipelineEvent[] = [];
    const ports = {
      ...this.#ports,
      emit: (e: PipelineEvent) => {
        announced.push(e);
        this.#options.observe?.(e, receivedAt);
      },
    };
    await recordArrival(
      ports,
      { id, envelope, size: raw.length, receivedAt, auth, via },
      { sequential: true },
    );
    for (const e of announced) {
      if (e.type === 'message.received') await this.#emit([receivedEvent(e, origin)]);
    }
    return { id, raw, envelope, auth, receivedAt };
  }

  async #run(item: WorkItem): Promise<ItemOutcome> {
    const { id } = item;
    const notBefore = item.retryNotBefore === undefined ? undefined : new Date(item.retryNotBefore);
    if (notBefore && this.#retries && notBefore > this.#ports.now()) {
      // a wait longer than SQS's longest delay: one more link of the chain
      await this.#retries.sendBack(item, notBefore);
      return { id, status: 'processing', duplicate: false, retryAt: notBefore.toISOString() };
    }
    const existing = await this.#store.getMessage(id);
    if (existing?.status === 'processed') {
      this.#logger.info('message already processed; acknowledged', { id });
      return { id, status: 'processed', duplicate: true };
    }
    const loaded = await loadItem(this.#options, item, this.#logger);
    const input = existing ? await this.#again(item, loaded, existing) : await this.#arrive(item, loaded);
    const events: PipelineEvent[] = [];
    this.#inFlight.set(id, { object: item.object, receivedAt: input.receivedAt, events });
    let outcome: ProcessOutcome;
    try {
      outcome = await processMessage(input, this.#ports);
    } finally {
      this.#inFlight.delete(id);
    }
    // Failed for good: without retries, a transient failure is SQS's to retry, not an end.
    const failed = events.flatMap((e) =>
      e.type === 'delivery.failed' && (this.#retries || e.permanent) ? [deliveryFailedEvent(e)] : [],
    );
    await this.#emit([routedEvent(input, outcome), ...failed]);
    if (outcome.status === 'processed') return { id, status: 'processed', duplicate: false };
    return this.#afterRun(item, outcome);
  }

  /**
   * A run that did not end `processed`: with retries, deliveries left waiting send the message back onto
   * the queue, and a failed one failed for good (a permanent error, or its window ran out); without,
   * SQS's redelivery decides.
   */
  async #afterRun(item: WorkItem, outcome: ProcessOutcome): Promise<ItemOutcome> {
    const retries = this.#retries;
    if (!retries || this.#abort.signal.aborted || outcome.unrecorded) throw failure(outcome);
    if (outcome.status === 'processing') {
      const at = await retries.nextAttempt(outcome);
      if (at) {
        await retries.sendBack(item, at);
        return { id: item.id, status: 'processing', duplicate: false, retryAt: at.toISOString() };
      }
    }
    throw failure(
      outcome,
      outcome.deliveries.some((d) => d.status === 'failed'),
    );
  }

  process(item: WorkItem): Promise<ItemOutcome> {
    const before = this.#running.get(item.id) ?? Promise.resolve();
    const next = before.catch(() => undefined).then(() => this.#run(item));
    const tail = next.catch(() => undefined);
    this.#running.set(item.id, tail);
    void tail.then(() => {
      if (this.#running.get(item.id) === tail) this.#running.delete(item.id);
    });
    return next;
  }

  rawLocation(id: string): ObjectLocation | null {
    return this.#inFlight.get(id)?.object ?? null;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#running.values());
  }
}

/**
 * Processes messages stored in S3 by either ingress, with records in DynamoDB: the processing Lambda's
 * driver of the processing core (see `sqs-processor.ts` for the event handling around it).
 *
 * For each work item: a message already `processed` is acknowledged without doing anything again. Else its
 * bytes are read from S3 once (or, for an SNS action, written there first), its envelope and verdicts are
 * taken from the ingress (the object's metadata for `mailroom smtp`, the receipt for SES — never from
 * headers in the message), it is recorded as received once, and the core parses, routes and delivers it.
 */
export function createMessageProcessor(options: MessageProcessorOptions): MessageProcessor {
  return new LambdaDriver(options);
}
