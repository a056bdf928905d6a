import type { AuthVerdicts } from '../auth/verdicts.ts';
import type { Envelope, Logger } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/types.ts';
import type { ReplyOptions, ReplyResult } from '../outbound/types.ts';

export type { Envelope, Logger };

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

export interface MailboxAction {
  kind: 'mailbox';
  mailbox: string;
}
export interface HandlerAction {
  kind: 'handler';
  name: string;
  fn: HandlerFn;
}
export interface WebhookAction {
  kind: 'webhook';
  url: string;
  /** Standard Webhooks secret (`whsec_<base64>` or raw string). */
  secret?: string;
  /** @default 10_000 */
  timeoutMs?: number;
}
export interface RejectAction {
  kind: 'reject';
  /** SMTP reply code, e.g. 550. @default 550 */
  code: number;
  /** Enhanced status + text, e.g. '5.7.1 Not accepted here'. */
  text: string;
}
export interface DropAction {
  kind: 'drop';
}

/**
 * Invoke an AWS Lambda function asynchronously (`InvocationType: 'Event'`) with the message as a
 * `CloudActionEvent`. Runs on AWS (the processor injects the ports); `mailroom dev` records the event
 * locally instead (see `createLocalActionPorts`).
 */
export interface LambdaAction {
  kind: 'lambda';
  /** Function name, ARN or partial ARN (`123456789012:function:name`). */
  functionName: string;
  /** Version or alias. @default none (`$LATEST`, or the qualifier in the ARN) */
  qualifier?: string;
}

/** Put the message as one event (a `CloudActionEvent` in `detail`) on an Amazon EventBridge bus. */
export interface EventBridgeAction {
  kind: 'eventBridge';
  /** Bus name or ARN (`default` for the account's default bus). */
  eventBusName: string;
  /** The event's `source` (must not start with `aws.`). @default 'mailroom' */
  source?: string;
  /** The event's `detail-type`. @default 'mailroom.message' */
  detailType?: string;
}

/**
 * Forward the message unchanged in body to other addresses: From becomes a verified sending address
 * (shown as "Jane Doe via Mailroom"), Reply-To the original sender, and headers that would break sending
 * or authentication are removed (see `forwardMessage`). Never sent back into a loop (see
 * `forwardSkipReason`).
 */
export interface ForwardAction {
  kind: 'forward';
  /** 1–50 addresses (the SES limit per message). */
  to: string[];
  /**
   * The forwarded message's From: `fwd@example.com` or `Support <fwd@example.com>`; on AWS it must be an
   * SES-verified address or on a verified domain.
   * @default the processor's `MAILROOM_FORWARD_FROM`, else the envelope recipient that routed here
   */
  from?: string;
}

export type Action =
  | MailboxAction
  | HandlerAction
  | WebhookAction
  | RejectAction
  | DropAction
  | LambdaAction
  | EventBridgeAction
  | ForwardAction;
