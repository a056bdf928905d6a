import type { Logger } from '../kernel/index.ts';
import type { Address } from '../message/index.ts';
import type { OutboundMail, ReplyRateLimiter } from '../outbound/index.ts';
import type { MessageStore } from '../store/index.ts';
import type { AttachmentAccess } from './attachment-access.ts';
import type { CloudActionPorts } from './cloud-port-contract.ts';
import type { DeliveryFacts } from './webhook-payload.ts';

/** Everything one attempt of one delivery needs. */
export interface ActionRun extends DeliveryFacts {
  /** 1 on the first try. */
  attempt: number;
  store: MessageStore;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** Aborts a webhook request (pipeline shutdown). */
  signal?: AbortSignal;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Where `ctx.reply` sends; without it `ctx.reply` throws `OutboundConfigError`. */
  outbound?: OutboundMail;
  /** From of `ctx.reply`. @default the delivery's `recipient` */
  replyFrom?: Address;
  /** Rate limits of `ctx.reply`, shared by every delivery of the pipeline. @default one per process */
  replyLimiter?: ReplyRateLimiter;
  /**
   * How `lambda`, `eventBridge` and `forward` actions reach their services; without the port an action
   * needs, it fails with a `DeliveryError` (not retryable) saying where it can run.
   */
  cloud?: CloudActionPorts;
  /** Where the message's attachments are and how to link to them. @default extracted from `raw`, no URLs */
  attachments?: AttachmentAccess;
}

/** The result of an attempt that did not throw. */
export interface ActionOutcome {
  status: 'delivered' | 'dropped' | 'rejected';
  /** For the trace. */
  detail: string;
}
