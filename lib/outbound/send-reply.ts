import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope, Logger } from '../kernel/index.ts';
import { errorText } from '../kernel/index.ts';
import type { Address, ParsedMessage } from '../message/index.ts';
import type { MessageStore } from '../store/index.ts';
import { composeReply } from './compose-reply.ts';
import { replySkipReason } from './loop-safety.ts';
import { replyKey, replyMessageId } from './reply-id.ts';
import { ReplyRateLimiter } from './reply-rate-limit.ts';
import { replyRecipient } from './reply-recipients.ts';
import { domainOf, isSendableAddress } from './sender-address.ts';
import type { OutboundMail, ReplyOptions, ReplyResult } from './types.ts';

/** The delivery a reply answers. */
export interface ReplyOriginal {
  /** Mailroom's id of the stored message. */
  id: string;
  envelope: Envelope;
  message: ParsedMessage;
  /** Its verdicts: Reply-To and From are trusted only when the From domain is authenticated. */
  auth: Pick<AuthVerdicts, 'dkim' | 'dmarc'>;
  /** The delivery's idempotency key: the reply's Message-ID derives from it. */
  idempotencyKey: string;
}

export interface ReplyDeps {
  outbound: OutboundMail;
  /** The reply's From (and envelope sender). */
  from: Address;
  /** Where sent replies are recorded (the outbox, keyed by reply) and traced. */
  store: Pick<MessageStore, 'getOutboxEntry' | 'putOutboxEntry' | 'addTrace'>;
  logger: Logger;
  /**
   * Counts replies per recipient and overall (the pipeline passes one built from `outbound.replyLimits`).
   * @default one shared by every caller in the process that passes none, with the default limits
   */
  limiter?: ReplyRateLimiter;
  /** @default () => new Date() */
  now?: () => Date;
}

let shared: ReplyRateLimiter | undefined;
/** The process-wide limiter of callers that bring none: limits hold even for a hand-built reply function. */
function sharedLimiter(): ReplyRateLimiter {
  shared ??= new ReplyRateLimiter();
  return shared;
}

/** Whether a handler's `replyTo` is one plain mailbox (anything else could smuggle text into the header). */
function replyToProblem(replyTo: string | undefined): string | null {
  if (replyTo === undefined || isSendableAddress(replyTo)) return null;
  return `replyTo ${JSON.stringify(replyTo)} is not one plain mailbox`;
}

/**
 * The `ctx.reply` of one delivery. Each call is the next reply of that delivery (1st, 2nd, …), keyed by
 * the delivery's idempotency key, so a retried or replayed handler re-sends nothing: a reply already in
 * the outbox resolves `{ duplicate: true }`. A reply goes to one address ({@link replyRecipient}).
 * Replies that loop safety forbids ({@link replySkipReason}) or that a rate limit stops resolve
 * `{ skipped: true }` (never retried). Every outcome is added to the original's trace.
 * @throws OutboundError when the transport failed (the handler fails and is retried).
 */
export function createReplyFunction(
  original: ReplyOriginal,
  deps: ReplyDeps,
): (options: ReplyOptions) => Promise<ReplyResult> {
  const now = deps.now ?? (() => new Date());
  const limiter = deps.limiter ?? sharedLimiter();
  let seq = 0;
  const trace = async (step: string, detail: string) => {
    try {
      await deps.store.addTrace(original.id, step, detail);
    } catch (err) {
      deps.logger.warn('could not write trace entry', { id: original.id, step, error: errorText(err) });
    }
  };
  const skip = async (reason: string, rateLimit?: 'recipient' | 'global'): Promise<ReplyResult> => {
    if (rateLimit) deps.logger.warn('reply not sent: rate limit', { id: original.id, reason });
    else deps.logger.info('reply skipped', { id: original.id, reason });
    await trace('reply skipped', reason);
    return rateLimit ? { skipped: true, reason, rateLimit } : { skipped: true, reason };
  };

  return async (options) => {
    seq += 1;
    const target = replyRecipient({
      message: original.message,
      envelope: original.envelope,
      auth: original.auth,
      to: options.to,
      useReplyTo: options.useReplyTo,
    });
    const reason =
      replySkipReason({
        envelope: original.envelope,
        message: original.message,
        to: target.address ? [target.address.address] : [],
        from: deps.from.address,
        automatic: options.automatic ?? true,
        ...(target.address ? {} : { noRecipient: target.reason }),
      }) ?? replyToProblem(options.replyTo);
    if (reason !== null || !target.address) return skip(reason ?? 'no recipient');

    const id = replyKey(original.idempotencyKey, seq);
    const existing = await deps.store.getOutboxEntry(id);
    if (existing) {
      await trace('reply skipped', `${existing.messageId} was sent already (${existing.createdAt})`);
      const { messageId, envelope } = existing;
      return { skipped: false, id, messageId, to: envelope.to, duplicate: true };
    }

    const allowed = limiter.take(target.address.address);
    if (!allowed.ok) return skip(allowed.reason, allowed.limit);
    try {
      return await send(id, target.address, target.via, options);
    } catch (err) {
      allowed.release(); // nothing left: a retry may use the slot
      throw err;
    }
  };

  async function send(id: string, to: Address, via: string, options: ReplyOptions): Promise<ReplyResult> {
    const kind = deps.outbound.kind ?? 'custom';
    const createdAt = now();
    const reply = await composeReply({
      original: original.message,
      from: deps.from,
      to: [to],
      messageId: replyMessageId(id, domainOf(deps.from.address)),
      date: createdAt,
      options,
    });
    const sent = await deps.outbound.send(reply.raw, reply.envelope, {
      id,
      messageId: reply.messageId,
      inReplyTo: original.id,
      subject: reply.subject,
      date: createdAt,
    });
    try {
      await deps.store.putOutboxEntry({
        id,
        messageId: reply.messageId,
        inReplyTo: original.id,
        envelope: reply.envelope,
        subject: reply.subject,
        createdAt: createdAt.toISOString(),
        transport: kind,
        raw: reply.raw,
      });
    } catch (err) {
      // sent already: failing the handler now would only send it twice
      deps.logger.error('reply sent but not recorded in the outbox', {
        id: original.id,
        reply: id,
        error: errorText(err),
      });
    }
    const refused = sent.rejected?.length ? `; refused: ${sent.rejected.join(', ')}` : '';
    await trace(
      'reply sent',
      `${reply.messageId} to ${to.address} via ${kind} (recipient: ${via})${refused}`,
    );
    return { skipped: false, id, messageId: reply.messageId, to: reply.envelope.to, duplicate: false };
  }
}
