import { createHash } from 'node:crypto';
import * as z from 'zod';
import { errorText } from '../../kernel/index.ts';
import {
  domainOf,
  forwardMessage,
  forwardSkipReason,
  isSendableAddress,
  OutboundConfigError,
  parseSenderAddress,
} from '../../outbound/index.ts';
import { defineActionKind } from '../action-kind.ts';
import type { ActionRun } from '../action-run.ts';
import { callPort, cloudPort } from '../cloud-delivery.ts';
import { DeliveryError } from '../errors.ts';

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

/**
 * Forward the message to one or more addresses, From rewritten to a verified sending address and the
 * original sender in Reply-To (see {@link ForwardAction}).
 * @param options.from The forwarded message's From. @default `MAILROOM_FORWARD_FROM`, else the recipient
 */
export function forward(to: string | string[], options: { from?: string } = {}): ForwardAction {
  return { kind: 'forward', to: Array.isArray(to) ? [...to] : [to], ...options };
}

function isSenderAddress(value: string): boolean {
  try {
    parseSenderAddress(value);
    return true;
  } catch {
    return false;
  }
}

/** The outbox key of a delivery's forward: 32 hex characters of a SHA-256 of its idempotency key. */
export function forwardKey(idempotencyKey: string): string {
  return createHash('sha256').update(`mailroom-forward\0${idempotencyKey}`).digest('hex').slice(0, 32);
}

/** The forward's From: the action's `from`, else the port's `forwardFrom`, else the recipient. */
function forwardFrom(action: ForwardAction, run: ActionRun): ReturnType<typeof parseSenderAddress> {
  try {
    return parseSenderAddress(action.from ?? run.cloud?.forwardFrom ?? run.recipient);
  } catch (cause) {
    const text =
      cause instanceof OutboundConfigError ? cause.message.replace(/^reply /, '') : errorText(cause);
    throw new DeliveryError(`forward to ${action.to.join(', ')}: ${text}`, { cause, retryable: false });
  }
}

/**
 * `forward()`: loop checks (`forwardSkipReason`: a forbidden forward is `dropped` with the reason), then
 * the rewritten message (`forwardMessage`) to the `forward` port.
 */
export const forwardKind = defineActionKind<ForwardAction>({
  kind: 'forward',
  schema: z.object({
    kind: z.literal('forward'),
    // One address as a string is a list of one (as `forward('ops@example.net')` builds it).
    to: z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v),
      z
        .array(
          z
            .string()
            .refine(isSendableAddress, { message: 'must be an email address such as ops@example.net' }),
        )
        .min(1, { message: 'give at least one address' })
        // A refinement, not .max(): zod's length limits abort the action union's error reporting.
        .refine((to) => to.length <= 50, { message: 'at most 50 addresses (the SES limit per message)' }),
    ),
    from: z
      .string()
      .refine(isSenderAddress, {
        message: 'must be one address: "fwd@example.com" or "Name <fwd@example.com>"',
      })
      .optional(),
  }),
  target: (action) => action.to.join(', '),
  describe: (action) => ({ to: action.to, from: action.from ?? null }),
  cloudPort: 'forward',
  async run(action, run) {
    const send = cloudPort(run, 'forward', 'forward');
    const targets = action.to.join(', ');
    const reason = forwardSkipReason({
      envelope: run.envelope,
      message: run.message,
      to: action.to,
      recipients: run.recipients,
    });
    if (reason !== null) return { status: 'dropped', detail: `forward to ${targets} skipped: ${reason}` };
    const from = forwardFrom(action, run);
    const forwarded = forwardMessage({
      raw: run.raw,
      message: run.message,
      from,
      to: action.to,
      forwardedFor: run.recipients,
    });
    const id = forwardKey(run.idempotencyKey);
    const context = {
      id,
      messageId: run.message.messageId ?? `<${id}@${domainOf(from.address)}>`,
      inReplyTo: run.messageId,
      subject: run.message.subject,
      date: (run.now ?? (() => new Date()))(),
    };
    const { raw, envelope } = forwarded;
    const result = await callPort(`forward to ${targets}`, () =>
      send({ raw, envelope, context, idempotencyKey: run.idempotencyKey }),
    );
    return { status: 'delivered', detail: `forwarded to ${targets} from ${from.address}: ${result.detail}` };
  },
});
