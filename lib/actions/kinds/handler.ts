import * as z from 'zod';
import type { AuthVerdicts } from '../../auth/index.ts';
import { childLogger, type Envelope, errorText, isRetryable, type Logger } from '../../kernel/index.ts';
import type { ParsedMessage } from '../../message/index.ts';
import type { ReplyOptions, ReplyResult } from '../../outbound/index.ts';
import { createReplyFunction, OutboundConfigError } from '../../outbound/index.ts';
import { defineActionKind } from '../action-kind.ts';
import type { ActionRun } from '../action-run.ts';
import { type HandlerAttachment, handlerAttachments } from '../attachment-access.ts';
import { DeliveryError } from '../errors.ts';
import { putMailboxEntry } from '../mailbox-entry.ts';

/** What a handler receives for one delivery. */
export interface HandlerContext {
  /** Mailroom's id of the stored message. */
  id: string;
  envelope: Envelope;
  /** The envelope recipient(s) that routed here (first one for convenience in `recipient`). */
  recipient: string;
  recipients: string[];
  message: ParsedMessage;
  /**
   * SPF, DKIM, DMARC and ARC verdicts, computed by Mailroom when the message was first processed (or taken
   * from the SES receipt on AWS); never read from the message's own headers. A message that did not come
   * over SMTP (no client address) has `none` verdicts that say so in their comments.
   */
  auth: AuthVerdicts;
  /** Captures from the route's match (`{token}`, subaddress `tag`, named regex groups). */
  params: Record<string, string>;
  /** The stored raw bytes. */
  raw: Buffer;
  /**
   * The message's attachments (as `message.attachments`, same order) with their bytes: `stream()`,
   * `buffer()` (from the attachment store, or extracted again from `raw` when the content was not kept)
   * and `url()` (a time-limited absolute URL, null when not kept or when there is no HTTP server).
   */
  attachments: HandlerAttachment[];
  logger: Logger;
  /** Stable across retries and re-processing: message id + route + action (+ params). */
  idempotencyKey: string;
  /** The route's name. */
  route: string;
  /** 1 on the first try. */
  attempt: number;
  /** Put this message into a mailbox (idempotent: a mailbox holds a message once). */
  mailboxes: {
    put(mailbox: string, data?: Record<string, unknown>): Promise<void>;
  };
  /**
   * Replies to the message, to exactly one address: `options.to` when given; else its first Reply-To when
   * `auth` shows an authenticated From domain (DMARC) or `options.useReplyTo` is set; else its From when
   * authenticated; else its envelope sender (RFC 3834 §4). From = the configured reply address (else the
   * recipient that routed here), In-Reply-To and References set, Subject `Re: …`, sent through the
   * configured outbound mail. Automatic by default (`Auto-Submitted: auto-replied`); never sent to the
   * null sender, to list or bulk mail or to other automatic mail, nor past `outbound.replyLimits`: those
   * resolve `{ skipped: true, reason }` (with `rateLimit` for the limits) and are not retried.
   * Idempotent: a retried or replayed handler's replies resolve `{ duplicate: true }` and are not sent again.
   * @throws OutboundConfigError when no outbound mail is configured; OutboundError when sending failed.
   */
  reply(options: ReplyOptions): Promise<ReplyResult>;
}

export type HandlerFn = (ctx: HandlerContext) => unknown | Promise<unknown>;

export interface HandlerAction {
  kind: 'handler';
  name: string;
  fn: HandlerFn;
}

/** Run an in-process handler. `name` defaults to the function's name. */
export function handler(fn: HandlerFn, name?: string): HandlerAction {
  return { kind: 'handler', fn, name: name ?? (fn.name || 'handler') };
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

function handlerContext(action: HandlerAction, run: ActionRun, now: () => Date): HandlerContext {
  const logger = childLogger(run.logger, {
    id: run.messageId,
    handler: action.name,
    delivery: run.idempotencyKey,
  });
  return {
    id: run.messageId,
    envelope: run.envelope,
    recipient: run.recipient,
    recipients: run.recipients,
    message: run.message,
    auth: run.auth,
    params: { ...run.params },
    raw: run.raw,
    attachments: handlerAttachments(run),
    logger,
    idempotencyKey: run.idempotencyKey,
    route: run.route,
    attempt: run.attempt,
    mailboxes: {
      put: async (mailbox, data) => {
        await putMailboxEntry(run, mailbox, data ?? null, now);
      },
    },
    reply: replyFunction(run, logger, now),
  };
}

/**
 * `handler()`: calls the function with a {@link HandlerContext}. Its error fails the attempt, retried
 * unless it says otherwise (a `MailroomError` that is not `retryable`, or outbound mail not configured).
 */
export const handlerKind = defineActionKind<HandlerAction>({
  kind: 'handler',
  schema: z.object({
    kind: z.literal('handler'),
    name: z.string().min(1),
    fn: z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', {
      message: 'must be a function',
    }),
  }),
  target: (action) => action.name,
  describe: (action) => ({ name: action.name }),
  async run(action, run) {
    try {
      await action.fn(handlerContext(action, run, run.now ?? (() => new Date())));
    } catch (cause) {
      throw new DeliveryError(`handler ${action.name} failed: ${errorText(cause)}`, {
        cause,
        retryable: isRetryable(cause),
      });
    }
    return { status: 'delivered', detail: `handler ${action.name} done` };
  },
});
