import type { MessageStore } from '../store/index.ts';
import { contextOf } from './raw-message-info.ts';
import type { OutboundContext, OutboundEnvelope, OutboundMail, OutboundResult } from './types.ts';

export interface OutboxMailOptions {
  /** Clock for messages sent without a context and without a Date header. @default () => new Date() */
  now?: () => Date;
}

/**
 * Sends nothing: keeps each message in the store's outbox (dev mode), where `GET /api/outbox` lists it
 * and `GET /api/outbox/:id/raw` returns its bytes. Sending the same outbox key twice keeps the first.
 */
export class OutboxMail implements OutboundMail {
  readonly kind = 'outbox';
  readonly #store: Pick<MessageStore, 'putOutboxEntry'>;
  readonly #now: () => Date;

  constructor(store: Pick<MessageStore, 'putOutboxEntry'>, options: OutboxMailOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? (() => new Date());
  }

  async send(raw: Buffer, envelope: OutboundEnvelope, context?: OutboundContext): Promise<OutboundResult> {
    const ctx = await contextOf(raw, context, this.#now);
    await this.#store.putOutboxEntry({
      id: ctx.id,
      messageId: ctx.messageId,
      inReplyTo: ctx.inReplyTo,
      envelope: { from: envelope.from, to: [...envelope.to] },
      subject: ctx.subject,
      createdAt: ctx.date.toISOString(),
      transport: this.kind,
      raw,
    });
    return { messageId: ctx.messageId };
  }
}
