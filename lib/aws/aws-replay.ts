/**
 * `mailroom replay --stack`: runs the failed deliveries of stored messages again, from the operator's
 * machine, through the processing Lambda's own driver (`message-processor.ts`: the processing core on the
 * DynamoDB records and the S3 raw objects, one try per delivery). Deliveries already delivered are skipped
 * by their idempotency keys, so a replay repeats nothing that succeeded, and replaying a processed message
 * does nothing.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import type { MailroomConfig } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import { errorText, isRetryable } from '../kernel/index.ts';
import type { MessageStatus } from '../store/index.ts';
import { loadProcessorCloudPorts } from './aws-port-loader.ts';
import { DynamoMessageStore } from './dynamo-message-store.ts';
import { eventBridgeEmitter } from './event-bridge-emitter.ts';
import { createMessageProcessor, type MessageProcessorOptions } from './message-processor.ts';
import { processorOutbound } from './processor-outbound.ts';
import type { ProcessorSettings } from './processor-settings.ts';
import { storedObject } from './raw-object-location.ts';
import type { ObjectLocation, WorkItem } from './work-items.ts';

export { storedObject } from './raw-object-location.ts';

export type AwsReplayOptions = MessageProcessorOptions & { logger: Logger; config: MailroomConfig };

/** What became of one replayed message. */
export interface ReplayOutcome {
  id: string;
  /** The message's status after the replay; null when there is no such message. */
  status: MessageStatus | null;
  /** True when it was processed already and nothing was done. */
  alreadyProcessed?: boolean;
  /** Why it failed (the failed deliveries). */
  error?: string;
}

/** Replays messages on AWS: see the file comment. The clients stay open (the caller owns them). */
export interface AwsReplayer {
  /** Ids of failed messages received at or after `since` (ISO 8601), oldest first. */
  listFailed(since?: string): Promise<string[]>;
  replay(id: string): Promise<ReplayOutcome>;
  /** Where the message being replayed is (for the `lambda()` / `eventBridge()` ports). */
  rawLocation(id: string): ObjectLocation | null;
  close(): Promise<void>;
}

export function createAwsReplayer(options: AwsReplayOptions): AwsReplayer {
  const store = new DynamoMessageStore({ client: options.dynamo, tableName: options.tableName });
  const processor = createMessageProcessor(options);
  return {
    rawLocation: (id) => processor.rawLocation(id),
    listFailed: (since) => store.listFailed(since === undefined ? undefined : { receivedSince: since }),
    async replay(id) {
      const message = await store.getMessage(id);
      if (!message) return { id, status: null };
      if (message.status === 'processed') return { id, status: 'processed', alreadyProcessed: true };
      await store.addTrace(id, 'replay', 'replay requested (mailroom replay --stack)');
      const { envelope, receivedAt } = message;
      const item: WorkItem = { id, ...storedObject(message, options), envelope, receivedAt };
      try {
        const outcome = await processor.process(item);
        return { id, status: outcome.status, ...(outcome.duplicate ? { alreadyProcessed: true } : {}) };
      } catch (err) {
        options.logger.debug('replay failed', { id, retryable: isRetryable(err) });
        const status = (await store.getMessage(id))?.status ?? 'failed';
        return { id, status, error: errorText(err) };
      }
    },
    close: () => processor.close(),
  };
}

export interface OpenAwsReplayOptions {
  config: MailroomConfig;
  tableName: string;
  rawBucket: string;
  logger: Logger;
  /** @default new S3Client (path-style when `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` is set), closed with the replayer */
  s3?: S3Client;
  /** @default new DynamoDBClient, closed with the replayer */
  dynamo?: DynamoDBClient;
  /** The deployed processor's settings (`readProcessorSettings`). @default the defaults, no events */
  settings?: ProcessorSettings;
}

/**
 * A replayer with what the processing Lambda has: SDK clients with the default credentials and region,
 * SES for `ctx.reply`, and an SDK client for each of `lambda()`, `eventBridge()`, `forward()` the routes
 * use; with the processor's `settings`, its `forward()` sender, SES configuration set, key prefixes and
 * event bus (events published as the Lambda publishes them).
 */
export async function openAwsReplay(options: OpenAwsReplayOptions): Promise<AwsReplayer> {
  const env = process.env;
  const s3 =
    options.s3 ?? new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL) });
  const dynamo = options.dynamo ?? new DynamoDBClient({});
  const settings: ProcessorSettings = options.settings ?? {};
  let replayer: AwsReplayer | undefined;
  const cloud = await loadProcessorCloudPorts(options.config, {
    ...(settings.MAILROOM_FORWARD_FROM ? { forwardFrom: settings.MAILROOM_FORWARD_FROM } : {}),
    rawLocation: (id) => replayer?.rawLocation(id) ?? null,
  });
  const setName = settings.MAILROOM_SES_CONFIGURATION_SET;
  const bus = settings.MAILROOM_EVENT_BUS;
  const opened = createAwsReplayer({
    ...options,
    s3,
    dynamo,
    outbound: processorOutbound(setName ? { configurationSetName: setName } : {}),
    ...(settings.MAILROOM_SMTP_PREFIX ? { smtpPrefix: settings.MAILROOM_SMTP_PREFIX } : {}),
    ...(settings.MAILROOM_SES_PREFIX ? { sesPrefix: settings.MAILROOM_SES_PREFIX } : {}),
    ...(bus ? { emit: eventBridgeEmitter({ client: new EventBridgeClient({}), eventBusName: bus }) } : {}),
    ...(cloud ? { cloud } : {}),
  });
  replayer = opened;
  return {
    ...opened,
    async close() {
      await opened.close();
      if (!options.s3) s3.destroy();
      if (!options.dynamo) dynamo.destroy();
    },
  };
}
