import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AuthVerdicts } from '../auth/verdicts.ts';
import type { MailroomConfig } from '../config/types.ts';
import type { Envelope, Logger } from '../kernel/index.ts';
import { errorText, silentLogger } from '../kernel/index.ts';
import type { OutboundMail } from '../outbound/types.ts';
import { createPipeline, type Pipeline, type PipelineDeps } from '../pipeline/create-pipeline.ts';
import type { MessageDetail, MessageStatus, MessageStore } from '../store/types.ts';
import { DynamoMessageStore } from './dynamo-message-store.ts';
import type { EmitEvents, MailroomEvent, RoutedEventDetail } from './mailroom-events.ts';
import { ProcessingRawStore } from './processing-raw-store.ts';
import { MessageProcessingError } from './processor-errors.ts';
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
  /** The AWS action ports (Lambda invoke, EventBridge, forward), passed to the pipeline. */
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
  /** @default () => new Date() */
  now?: () => Date;
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
}

export interface MessageProcessor {
  /**
   * Records the message as received (once), then runs the pipeline on it. Resolves when it is processed
   * (now or before).
   * @throws MessageProcessingError when it failed (a delivery failed, its bytes or metadata are missing),
   * or the error of the store or S3 call that failed.
   */
  process(item: WorkItem): Promise<ItemOutcome>;
  /**
   * Where message `id`'s raw object is: for actions that hand the location on (`lambda()`,
   * `eventBridge()` events).
   */
  rawLocation(id: string): ObjectLocation;
  /** Concurrency the caller should use for items (the config's `delivery.concurrency`). */
  readonly concurrency: number;
  /** Stops the pipeline (running deliveries finish). The clients stay open: the caller owns them. */
  close(): Promise<void>;
}

/**
 * The config as the processor runs it: one try per delivery. Inside Lambda a retry with backoff sleeps
 * while billed, and SQS already retries: a failed delivery fails the message, the record becomes visible
 * again after the queue's visibility timeout, and the next run repeats only the deliveries not yet
 * delivered (they are idempotent), until the queue's `maxReceiveCount` moves it to the dead-letter queue.
 */
export function lambdaConfig(config: MailroomConfig): MailroomConfig {
  return { ...config, delivery: { ...config.delivery, attempts: 1 } };
}

function routedDetail(id: string, status: MessageStatus, m: MessageDetail | null): RoutedEventDetail {
  return {
    id,
    status,
    receivedAt: m?.receivedAt ?? '',
    envelope: { mailFrom: m?.envelope.mailFrom ?? '', rcptTo: [...(m?.envelope.rcptTo ?? [])] },
    subject: m?.subject ?? null,
    from: m?.from ?? null,
    deliveries: (m?.deliveries ?? []).map((d) => {
      const out: RoutedEventDetail['deliveries'][number] = {
        recipient: d.recipient,
        route: d.route,
        action: d.action,
        status: d.status,
      };
      if (d.mailbox !== undefined) out.mailbox = d.mailbox;
      if (d.error !== undefined) out.error = d.error;
      return out;
    }),
  };
}

/**
 * Processes messages stored in S3 by either ingress, with records in DynamoDB: the core of the processing
 * Lambda (see `sqs-processor.ts` for the event handling around it).
 *
 * For each work item: a message already `processed` is acknowledged without doing anything again. Else its
 * bytes are read from S3 (or, for an SNS action, written there first), its envelope and verdicts are taken
 * from the ingress (the object's metadata for `mailroom smtp`, the receipt for SES — never from headers in
 * the message), it is recorded as received once, and the pipeline parses, routes and delivers it.
 */
export function createMessageProcessor(options: MessageProcessorOptions): MessageProcessor {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const maxMessageBytes = options.maxMessageBytes ?? 52_428_800;
  const config = lambdaConfig(options.config);
  const rawStore = new ProcessingRawStore({
    client: options.s3,
    bucket: options.rawBucket,
    smtpPrefix: options.smtpPrefix ?? 'smtp/',
    sesPrefix: options.sesPrefix ?? 'ses/',
    maxMessageBytes,
  });
  const store: MessageStore = new DynamoMessageStore({
    client: options.dynamo,
    tableName: options.tableName,
    now,
    ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }),
  });
  const deps: PipelineDeps = { config, rawStore, store, logger, now };
  if (options.cloud !== undefined) deps.cloud = options.cloud;
  if (options.outbound !== undefined) deps.outbound = options.outbound;
  const pipeline: Pipeline = createPipeline(deps);
  /** One run per id at a time: a duplicate in the same batch waits, then finds the message processed. */
  const running = new Map<string, Promise<unknown>>();

  const emit = async (events: MailroomEvent[]): Promise<void> => {
    if (!options.emit) return;
    try {
      await options.emit(events);
    } catch (err) {
      logger.warn('could not emit events', {
        types: events.map((e) => e.detailType),
        id: events[0]?.detail.id,
        error: errorText(err),
      });
    }
  };

  const trace = async (id: string, step: string, detail: string) => {
    try {
      await store.addTrace(id, step, detail);
    } catch (err) {
      logger.warn('could not write trace entry', { id, step, error: errorText(err) });
    }
  };

  /** The bytes, and what the ingress knew: SES from the event, `mailroom smtp` from the object's metadata. */
  const load = async (
    item: WorkItem,
  ): Promise<{
    raw: Buffer;
    envelope: Envelope;
    auth: AuthVerdicts | null;
    receivedAt: string | undefined;
  }> => {
    const where = `s3://${item.object.bucket}/${item.object.key}`;
    let raw: Buffer;
    let metadata: Record<string, string> = {};
    if (item.content) {
      const written = await putS3ObjectOnce(options.s3, item.object, item.content);
      logger.debug(written ? 'stored SNS content' : 'SNS content already stored', { id: item.id, where });
      raw = item.content;
    } else {
      ({ data: raw, metadata } = await readS3Object(options.s3, item.object, maxMessageBytes));
    }
    if (item.origin === 'smtp') {
      const meta = await smtpObjectMeta(options.s3, item.object, metadata);
      if (!meta) {
        throw new MessageProcessingError(`${where} has no envelope stored with it: it cannot be routed`, {
          messageId: item.id,
        });
      }
      return { raw, envelope: meta.envelope, auth: meta.auth, receivedAt: meta.receivedAt };
    }
    if (!item.envelope) {
      throw new MessageProcessingError(`${where}: the event carries no envelope`, { messageId: item.id });
    }
    return { raw, envelope: item.envelope, auth: item.auth ?? null, receivedAt: item.receivedAt };
  };

  const run = async (item: WorkItem): Promise<ItemOutcome> => {
    const { id } = item;
    const existing = await store.getMessage(id);
    if (existing?.status === 'processed') {
      logger.info('message already processed; acknowledged', { id });
      return { id, status: 'processed', duplicate: true };
    }
    const { raw, envelope, auth, receivedAt } = await load(item);
    if (!existing) {
      const at = receivedAt ?? now().toISOString();
      await store.recordReceived({ id, receivedAt: at, envelope, size: raw.length });
      if (auth) await store.saveAuth(id, auth);
      const via = item.origin === 'ses' ? 'Amazon SES' : 'mailroom smtp';
      await trace(
        id,
        'received',
        `${raw.length} bytes from <${envelope.mailFrom}> for ${envelope.rcptTo.join(', ')} ` +
          `(${via}, s3://${item.object.bucket}/${item.object.key})`,
      );
      await emit([
        {
          detailType: 'mailroom.received',
          detail: {
            id,
            origin: item.origin,
            receivedAt: at,
            envelope: { mailFrom: envelope.mailFrom, rcptTo: [...envelope.rcptTo] },
            size: raw.length,
          },
        },
      ]);
    } else {
      // A retry: recorded before. Verdicts lost to a crash between recording and saving them are saved now.
      if (auth && !existing.auth) await store.saveAuth(id, auth);
      logger.info('processing again', { id, status: existing.status });
    }

    rawStore.hold(id, raw, item.object);
    let status: MessageStatus | null;
    try {
      status = await pipeline.process(id);
    } finally {
      rawStore.release(id);
    }
    if (status === null) {
      throw new MessageProcessingError(`message ${id} has no record`, { messageId: id });
    }
    // The outcome record is read again only for the routed event or to say what failed.
    if (status === 'processed' && !options.emit) return { id, status, duplicate: false };
    const detail = await store.getMessage(id);
    await emit([{ detailType: 'mailroom.routed', detail: routedDetail(id, status, detail) }]);
    if (status === 'processed') return { id, status, duplicate: false };
    const failed = (detail?.deliveries ?? [])
      .filter((d) => d.status === 'failed')
      .map((d) => `${d.route}/${d.action}: ${d.error ?? 'failed'}`);
    throw new MessageProcessingError(
      `message ${id} ${status === 'failed' ? 'failed' : `stopped while ${status}`}` +
        (failed.length ? ` (${failed.join('; ')})` : ''),
      { messageId: id },
    );
  };

  return {
    concurrency: config.delivery.concurrency,
    rawLocation: (id) => rawStore.locate(id),
    process(item) {
      const before = running.get(item.id) ?? Promise.resolve();
      const next = before.catch(() => undefined).then(() => run(item));
      const tail = next.catch(() => undefined);
      running.set(item.id, tail);
      void tail.then(() => {
        if (running.get(item.id) === tail) running.delete(item.id);
      });
      return next;
    },
    close: () => pipeline.close(),
  };
}
