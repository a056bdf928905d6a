import type { ActionRun, CloudActionPorts } from '../actions/index.ts';
import type { MailroomConfig } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import { errorText, silentLogger } from '../kernel/index.ts';
import type { Address } from '../message/index.ts';
import { type OutboundMail, parseSenderAddress, ReplyRateLimiter } from '../outbound/index.ts';
import { type Router, routerFromConfig } from '../routing/index.ts';
import type { AttachmentStore, MessageStore } from '../store/index.ts';
import type { DeliveryRetries } from './delivery-retries.ts';
import type { PipelineEvent } from './events.ts';

/** Where a message's attachments go, and how a reader outside the process gets one. */
export interface AttachmentPorts {
  store: AttachmentStore;
  /**
   * A time-limited URL to one attachment's bytes for webhook, Lambda and EventBridge payloads and
   * `ctx.attachments[i].url()`: an S3 presigned GET on AWS, a signed dev-server URL locally; null when
   * there is no way to reach it from outside (no HTTP server).
   */
  url(ref: AttachmentRef): Promise<string | null>;
}

/** Names one attachment of one stored message. */
export interface AttachmentRef {
  messageId: string;
  /** Its index in `ParsedMessage.attachments`. */
  index: number;
  sha256: string;
  filename: string | null;
  contentType: string;
}

/** What the processing core needs from the world: one set per pipeline or Lambda, built once. */
export interface ProcessingPorts {
  config: MailroomConfig;
  store: MessageStore;
  /** Built once from `config`. */
  router: Router;
  logger: Logger;
  now: () => Date;
  /** Random source for retry jitter, in [0, 1). */
  random: () => number;
  /** Aborted when the driver closes: retry waits end, deliveries left pending. */
  signal: AbortSignal;
  /** Receives every pipeline event; a listener's failure is the listener's problem. */
  emit: (event: PipelineEvent) => void;
  /** A driver's retries across runs (the Lambda); none: transient failures are retried in place only. */
  retries?: DeliveryRetries;
  /** None: attachments are described (name, type, size, hash) but not kept, and carry no URL. */
  attachments?: AttachmentPorts;
  /** Passed to every action as they are. */
  actions: Pick<ActionRun, 'fetch' | 'outbound' | 'replyFrom' | 'replyLimiter' | 'cloud'>;
}

/** What a driver gives to build the {@link ProcessingPorts}. */
export interface ProcessingPortsInput {
  config: MailroomConfig;
  store: MessageStore;
  /** @default a logger that discards everything */
  logger?: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** Random source for retry jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /** Used by webhook actions. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Where handlers' `ctx.reply` sends (see `createOutboundMail`). Not closed by `close()`: the caller owns
   * it. Without it `ctx.reply` throws `OutboundConfigError`.
   */
  outbound?: OutboundMail;
  /**
   * From of `ctx.reply`: `support@example.com` or `Support <support@example.com>`; building the ports
   * throws `OutboundConfigError` when it is not one mailbox.
   * @default the envelope recipient the delivery serves
   */
  replyFrom?: string | Address;
  /**
   * How `lambda()`, `eventBridge()` and `forward()` actions reach their services: `createAwsActionPorts`
   * (lib/aws) in the Lambda processor, `createLocalActionPorts` in `mailroom dev`. Without the port an
   * action needs, its deliveries fail with a `DeliveryError` that says so.
   */
  cloud?: CloudActionPorts;
  /** The router the ingress uses too. @default one built from `config` */
  router?: Router;
  signal: AbortSignal;
  emit: (event: PipelineEvent) => void;
  retries?: DeliveryRetries;
  attachments?: AttachmentPorts;
}

export function createProcessingPorts(input: ProcessingPortsInput): ProcessingPorts {
  const now = input.now ?? (() => new Date());
  const replyFrom = input.replyFrom === undefined ? undefined : parseSenderAddress(input.replyFrom);
  // One count of ctx.reply sends for every delivery these ports run (in memory: per process).
  const replyLimiter = new ReplyRateLimiter(input.config.outbound?.replyLimits, () => now().getTime());
  const actions: ProcessingPorts['actions'] = { replyLimiter };
  if (input.fetch !== undefined) actions.fetch = input.fetch;
  if (input.outbound !== undefined) actions.outbound = input.outbound;
  if (replyFrom !== undefined) actions.replyFrom = replyFrom;
  if (input.cloud !== undefined) actions.cloud = input.cloud;
  const ports: ProcessingPorts = {
    config: input.config,
    store: input.store,
    router: input.router ?? routerFromConfig(input.config),
    logger: input.logger ?? silentLogger,
    now,
    random: input.random ?? Math.random,
    signal: input.signal,
    emit: input.emit,
    actions,
  };
  if (input.retries !== undefined) ports.retries = input.retries;
  if (input.attachments !== undefined) ports.attachments = input.attachments;
  return ports;
}

/** Adds a trace entry; a failure to write it is logged, never thrown (the trace is a diagnostic). */
export async function trace(ports: ProcessingPorts, id: string, step: string, detail: string): Promise<void> {
  try {
    await ports.store.addTrace(id, step, detail);
  } catch (err) {
    ports.logger.warn('could not write trace entry', { id, step, error: errorText(err) });
  }
}
