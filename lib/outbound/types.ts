import type { Address } from '../message/index.ts';

/** The SMTP envelope of an outgoing message. */
export interface OutboundEnvelope {
  /** MAIL FROM. */
  from: string;
  /** RCPT TO. */
  to: string[];
}

/** What Mailroom knows about a message it sends, beyond its bytes (optional for a transport). */
export interface OutboundContext {
  /** Outbox key (hex), derived from the delivery's idempotency key. */
  id: string;
  /** The Message-ID header of `raw`. */
  messageId: string;
  /** Mailroom's id of the message replied to, or null. */
  inReplyTo: string | null;
  subject: string | null;
  /** When it was written (its Date header). */
  date: Date;
}

/** What a transport answered. */
export interface OutboundResult {
  /** The id the transport knows the message by: the Message-ID header, or e.g. SES's message id. */
  messageId: string;
  /** Recipients the transport refused while it accepted others. */
  rejected?: string[];
}

/** A way to send a finished message: keep it in the outbox, relay it over SMTP, hand it to SES. */
export interface OutboundMail {
  /** For the outbox and the trace: `outbox`, `smtp`, `ses`, …. @default 'custom' */
  readonly kind?: string;
  /**
   * Sends `raw` as is to `envelope.to`.
   * @throws OutboundError when nothing was accepted (the handler fails and is retried).
   */
  send(raw: Buffer, envelope: OutboundEnvelope, context?: OutboundContext): Promise<OutboundResult>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** A file attached to a reply. Content only: no paths or URLs are ever read. */
export interface ReplyAttachment {
  filename: string;
  content: Buffer | string;
  /** @default derived from the filename */
  contentType?: string;
  /** Content-ID, to show the file inline from the HTML (`<img src="cid:…">`). */
  cid?: string;
}

/**
 * What a handler passes to `ctx.reply`. A reply goes to exactly one address: `to` when given; else the
 * original's first Reply-To address when its From domain is authenticated (DMARC) or `useReplyTo` is set;
 * else its From when authenticated; else its envelope sender (RFC 3834 §4). See `replyRecipient`.
 */
export interface ReplyOptions {
  text: string;
  html?: string;
  /**
   * The one address to reply to, chosen by the handler (e.g. an address it looked up or verified). Loop
   * safety and the rate limits still apply; an address that is not a plain mailbox is skipped.
   * @default chosen from the original as described above
   */
  to?: string | Address;
  /**
   * Trust the original's Reply-To (its first usable address) even though its From is not authenticated:
   * only for a handler that knows its senders (e.g. an internal relay that does not sign).
   * @default false (Reply-To is used only after DMARC passed)
   */
  useReplyTo?: boolean;
  /**
   * Where answers to this reply should go, e.g. a signed `replyAddress(...)` so they route back to the
   * same ticket: one mailbox (else the reply is skipped). @default none (answers go to the From address)
   */
  replyTo?: string;
  attachments?: ReplyAttachment[];
  /**
   * An automatic reply (RFC 3834): marked `Auto-Submitted: auto-replied`, and never sent to list mail,
   * bulk mail or other automatic messages. Say false for a reply a person wrote (e.g. from a help desk).
   * @default true
   */
  automatic?: boolean;
}

/** What `ctx.reply` did. A reply that must not be sent is skipped, never an error. */
export type ReplyResult =
  | {
      skipped: false;
      /** Outbox key. */
      id: string;
      /** The reply's Message-ID header. */
      messageId: string;
      to: string[];
      /** True when an earlier attempt of this delivery had sent it already (nothing was sent now). */
      duplicate: boolean;
    }
  | {
      skipped: true;
      /** Why nothing was sent, e.g. `the original is list mail (List-Id)`. */
      reason: string;
      /**
       * Set when a rate limit (`outbound.replyLimits`) stopped the reply: `recipient` (too many to this
       * address in the last hour) or `global` (too many in the last minute). Not retried.
       */
      rateLimit?: 'recipient' | 'global';
    };
