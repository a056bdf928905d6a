import type { AuthVerdicts } from '../auth/verdicts.ts';
import { childLogger, errorText } from '../kernel/index.ts';
import type { Address, ParsedMessage } from '../message/types.ts';
import { OutboundConfigError } from '../outbound/errors.ts';
import type { ReplyRateLimiter } from '../outbound/reply-rate-limit.ts';
import { createReplyFunction } from '../outbound/send-reply.ts';
import type { OutboundMail } from '../outbound/types.ts';
import type { MessageStore } from '../store/types.ts';
import type { CloudActionPorts } from './cloud-ports.ts';
import { deliverWebhook } from './deliver-webhook.ts';
import { DeliveryError } from './errors.ts';
import { isMailboxName } from './mailbox-name.ts';
import { runEventBridge, runForward, runLambda } from './run-cloud-action.ts';
import type { Action, Envelope, HandlerContext, Logger } from './types.ts';

/** Everything one attempt of one delivery needs. */
export interface ActionRun {
  /** Mailroom's id of the stored message. */
  messageId: string;
  envelope: Envelope;
  /** The first of `recipients`. */
  recipient: string;
  /** Every envelope recipient this delivery serves. */
  recipients: string[];
  message: ParsedMessage;
  /** The message's authentication verdicts. */
  auth: AuthVerdicts;
  params: Record<string, string>;
  raw: Buffer;
  /** Route name. */
  route: string;
  /** The delivery key: stable across retries and re-processing. */
  idempotencyKey: string;
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
  /** Where `ctx.reply` sends; without it `ctx.reply` throws {@link OutboundConfigError}. */
  outbound?: OutboundMail;
  /** From of `ctx.reply`. @default the delivery's `recipient` */
  replyFrom?: Address;
  /** Rate limits of `ctx.reply`, shared by every delivery of the pipeline. @default one per process */
  replyLimiter?: ReplyRateLimiter;
  /**
   * How `lambda`, `eventBridge` and `forward` actions reach their services; without the port an action
   * needs, it fails with a {@link DeliveryError} saying where it can run.
   */
  cloud?: CloudActionPorts;
}

/** The result of an attempt that did not throw. */
export interface ActionOutcome {
  status: 'delivered' | 'dropped' | 'rejected';
  /** For the trace. */
  detail: string;
}

/** Where a delivery goes, for display (`DeliveryRecord.target`); webhook URLs lose credentials and query. */
export function actionTarget(action: Action): string | undefined {
  switch (action.kind) {
    case 'handler':
      return action.name;
    case 'webhook':
      try {
        const url = new URL(action.url);
        return `${url.origin}${url.pathname}`;
      } catch {
        return undefined;
      }
    case 'mailbox':
      return action.mailbox;
    case 'lambda':
      return action.qualifier ? `${action.functionName}:${action.qualifier}` : action.functionName;
    case 'eventBridge':
      return action.eventBusName;
    case 'forward':
      return action.to.join(', ');
    default:
      return undefined;
  }
}

/**
 * Runs one attempt of one action for one delivery.
 * - `mailbox`: stores a mailbox entry (idempotent: a mailbox holds a message once).
 * - `handler`: calls the function with a {@link HandlerContext}.
 * - `webhook`: POSTs the signed JSON payload; any 2xx answer delivers.
 * - `lambda`, `eventBridge`: sends the delivery's `CloudActionEvent` through `run.cloud`.
 * - `forward`: sends the rewritten message through `run.cloud.forward` (`dropped` when loop safety forbids
 *   it).
 * - `drop`: nothing (`dropped`). `reject`: nothing (`rejected`; the SMTP ingress refused it at RCPT already).
 * @throws DeliveryError when the attempt failed and may be retried.
 */
export async function runAction(action: Action, run: ActionRun): Promise<ActionOutcome> {
  const now = run.now ?? (() => new Date());
  switch (action.kind) {
    case 'mailbox': {
      const created = await putMailbox(
        run,
        action.mailbox,
        { route: run.route, recipients: run.recipients, params: run.params },
        now,
      );
      return {
        status: 'delivered',
        detail: created ? `stored in mailbox ${action.mailbox}` : `mailbox ${action.mailbox} already held it`,
      };
    }
    case 'handler': {
      const logger = childLogger(run.logger, {
        id: run.messageId,
        handler: action.name,
        delivery: run.idempotencyKey,
      });
      const ctx: HandlerContext = {
        id: run.messageId,
        envelope: run.envelope,
        recipient: run.recipient,
        recipients: run.recipients,
        message: run.message,
        auth: run.auth,
        params: { ...run.params },
        raw: run.raw,
        logger,
        idempotencyKey: run.idempotencyKey,
        route: run.route,
        attempt: run.attempt,
        mailboxes: {
          put: async (mailbox, data) => {
            await putMailbox(run, mailbox, data ?? null, now);
          },
        },
        reply: replyFunction(run, logger, now),
      };
      try {
        await action.fn(ctx);
      } catch (cause) {
        throw new DeliveryError(`handler ${action.name} failed: ${errorText(cause)}`, { cause });
      }
      return { status: 'delivered', detail: `handler ${action.name} done` };
    }
    case 'webhook': {
      const { status } = await deliverWebhook(
        action,
        {
          type: 'message.received',
          id: run.idempotencyKey,
          timestamp: now().toISOString(),
          data: {
            id: run.messageId,
            envelope: run.envelope,
            recipient: run.recipient,
            recipients: run.recipients,
            route: run.route,
            params: run.params,
            message: run.message,
            auth: run.auth,
          },
        },
        { now, signal: run.signal, fetch: run.fetch },
      );
      return { status: 'delivered', detail: `webhook ${actionTarget(action) ?? ''} answered ${status}` };
    }
    case 'lambda':
      return runLambda(action, run, now);
    case 'eventBridge':
      return runEventBridge(action, run, now);
    case 'forward':
      return runForward(action, run, now);
    case 'drop':
      return { status: 'dropped', detail: 'dropped' };
    case 'reject':
      return { status: 'rejected', detail: `${action.code} ${action.text}` };
    default: {
      const kind = (action as { kind?: unknown }).kind;
      throw new DeliveryError(`unknown action kind: ${String(kind)}`);
    }
  }
}

function replyFunction(run: ActionRun, logger: Logger, now: () => Date): HandlerContext['reply'] {
  const outbound = run.outbound;
  if (!outbound) {
    return async () => {
      throw new OutboundConfigError(
        'ctx.reply needs outbound mail: configure `outbound` (mode outbox or smtp)',
      );
    };
  }
  return createReplyFunction(
    {
      id: run.messageId,
      envelope: run.envelope,
      message: run.message,
      auth: run.auth,
      idempotencyKey: run.idempotencyKey,
    },
    {
      outbound,
      from: run.replyFrom ?? { address: run.recipient, name: '' },
      store: run.store,
      logger,
      ...(run.replyLimiter ? { limiter: run.replyLimiter } : {}),
      now,
    },
  );
}

async function putMailbox(
  run: ActionRun,
  mailbox: string,
  data: Record<string, unknown> | null,
  now: () => Date,
): Promise<boolean> {
  if (!isMailboxName(mailbox)) {
    throw new DeliveryError(
      `invalid mailbox name ${JSON.stringify(mailbox)}: use 1–64 letters, digits, . _ -`,
    );
  }
  try {
    return await run.store.putMailboxEntry({
      mailbox,
      messageId: run.messageId,
      data,
      createdAt: now().toISOString(),
    });
  } catch (cause) {
    throw new DeliveryError(`mailbox ${mailbox}: ${errorText(cause)}`, { cause });
  }
}
