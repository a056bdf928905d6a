import type { Envelope, Logger } from '../actions/types.ts';
import { errorText } from '../error-text.ts';
import type { Address, ParsedMessage } from '../message/types.ts';
import type { MessageStore } from '../store/types.ts';
import { composeReply } from './compose-reply.ts';
import { replySkipReason } from './loop-safety.ts';
import { replyKey, replyMessageId } from './reply-id.ts';
import { replyRecipients } from './reply-recipients.ts';
import { domainOf } from './sender-address.ts';
import type { OutboundMail, ReplyOptions, ReplyResult } from './types.ts';

/** The delivery a reply answers. */
export interface ReplyOriginal {
  /** Mailroom's id of the stored message. */
  id: string;
  envelope: Envelope;
  message: ParsedMessage;
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
  /** @default () => new Date() */
  now?: () => Date;
}

/**
 * The `ctx.reply` of one delivery. Each call is the next reply of that delivery (1st, 2nd, …), keyed by
 * the delivery's idempotency key, so a retried or replayed handler re-sends nothing: a reply already in
 * the outbox resolves `{ duplicate: true }`. Replies that loop safety forbids resolve `{ skipped: true }`
 * (see {@link replySkipReason}). Every outcome is added to the original's trace.
 * @throws OutboundError when the transport failed (the handler fails and is retried).
 */
export function createReplyFunction(
  original: ReplyOriginal,
  deps: ReplyDeps,
): (options: ReplyOptions) => Promise<ReplyResult> {
  const now = deps.now ?? (() => new Date());
  const kind = deps.outbound.kind ?? 'custom';
  let seq = 0;
  const trace = async (step: string, detail: string) => {
    try {
      await deps.store.addTrace(original.id, step, detail);
    } catch (err) {
      deps.logger.warn('could not write trace entry', { id: original.id, step, error: errorText(err) });
    }
  };

  return async (options) => {
    seq += 1;
    const automatic = options.automatic ?? true;
    const to = replyRecipients(original.message);
    const reason = replySkipReason({
      envelope: original.envelope,
      message: original.message,
      to: to.map((a) => a.address),
      from: deps.from.address,
      automatic,
    });
    if (reason !== null) {
      deps.logger.info('reply skipped', { id: original.id, reason });
      await trace('reply skipped', reason);
      return { skipped: true, reason };
    }

    const id = replyKey(original.idempotencyKey, seq);
    const existing = await deps.store.getOutboxEntry(id);
    if (existing) {
      await trace('reply skipped', `${existing.messageId} was sent already (${existing.createdAt})`);
      return {
        skipped: false,
        id,
        messageId: existing.messageId,
        to: existing.envelope.to,
        duplicate: true,
      };
    }

    const createdAt = now();
    const reply = await composeReply({
      original: original.message,
      from: deps.from,
      to,
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
    await trace('reply sent', `${reply.messageId} to ${reply.envelope.to.join(', ')} via ${kind}${refused}`);
    return { skipped: false, id, messageId: reply.messageId, to: reply.envelope.to, duplicate: false };
  };
}
