import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';
import { FORWARDED_FOR_HEADER } from './forward-message.ts';
import { domainOf } from './sender-address.ts';

/** Forwards Mailroom makes of one message, at most (counted by its `X-Mailroom-Forwarded-For` headers). */
export const MAX_FORWARD_HOPS = 3;
/** RFC 5321 §6.3 loop detection: a message with this many Received headers is not sent on. */
export const MAX_RECEIVED_HEADERS = 50;

export interface ForwardCheckInput {
  envelope: Envelope;
  message: ParsedMessage;
  /** The forward targets. */
  to: string[];
  /** The envelope recipients that routed the message here. */
  recipients: string[];
}

/**
 * Why this message must not be forwarded to `to`, or null when it may be. Refused:
 * - a target that is one of the recipients that routed it here (a forward to itself);
 * - a message that Mailroom forwarded from a target or from one of these recipients before (its
 *   `X-Mailroom-Forwarded-For` headers name them): it has come round a loop;
 * - a message forwarded {@link MAX_FORWARD_HOPS} times already, or with {@link MAX_RECEIVED_HEADERS}
 *   Received headers;
 * - forwarding back into our own domains (the domains of the envelope recipients) a message that is
 *   automatic (`Auto-Submitted` other than `no`) or was forwarded by Mailroom already.
 * Forwards to other domains of automatic mail (bounces, auto-replies) are allowed: the forward's own
 * bounces go to the sending service, not back here.
 */
export function forwardSkipReason(input: ForwardCheckInput): string | null {
  const lower = (s: string) => s.trim().toLowerCase();
  const targets = input.to.map(lower);
  const recipients = new Set(input.recipients.map(lower));
  const self = targets.find((t) => recipients.has(t));
  if (self) return `the forward would go back to ${self}, which routed the message here`;

  const headers = input.message.headers;
  const marker = FORWARDED_FOR_HEADER.toLowerCase();
  const hops = headers.filter((h) => h.key === marker);
  const earlier = new Set(hops.flatMap((h) => h.value.split(',').map(lower)).filter(Boolean));
  const looped = [...targets, ...recipients].find((a) => earlier.has(a));
  if (looped)
    return `Mailroom forwarded this message from ${looped} before (${FORWARDED_FOR_HEADER}): a loop`;
  if (hops.length >= MAX_FORWARD_HOPS) return `the message was forwarded ${hops.length} times already`;
  const received = headers.filter((h) => h.key === 'received').length;
  if (received >= MAX_RECEIVED_HEADERS) {
    return `the message has ${received} Received headers (a mail loop, RFC 5321 §6.3)`;
  }

  const ours = new Set(input.envelope.rcptTo.map(domainOf));
  const home = targets.find((t) => ours.has(domainOf(t)));
  if (home) {
    const auto = headers
      .find((h) => h.key === 'auto-submitted')
      ?.value.split(';')[0]
      ?.trim()
      .toLowerCase();
    if (auto !== undefined && auto !== 'no') {
      return `automatic mail (Auto-Submitted: ${auto || '(empty)'}) is not forwarded back to our domain (${home})`;
    }
    if (hops.length > 0) return `forwarded mail is not forwarded back to our domain (${home})`;
  }
  return null;
}
