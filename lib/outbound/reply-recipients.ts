import { type AuthVerdicts, isDmarcAligned } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { Address, ParsedMessage } from '../message/index.ts';
import { displayName } from './header-text.ts';
import { isSendableAddress } from './sender-address.ts';

/** What picks the one address a reply goes to. */
export interface ReplyRecipientInput {
  message: ParsedMessage;
  envelope: Envelope;
  /** The message's verdicts: only an authenticated From domain makes its Reply-To and From trusted. */
  auth: Pick<AuthVerdicts, 'dkim' | 'dmarc'>;
  /** The handler's explicit recipient (`ctx.reply({ to })`). */
  to?: string | Address;
  /** The handler vouches for the message's Reply-To without authentication (`ctx.reply({ useReplyTo: true })`). */
  useReplyTo?: boolean;
}

/** Where a reply goes, and which rule chose it (for the trace). */
export type ReplyRecipient =
  | { address: Address; via: 'to' | 'reply-to' | 'from' | 'envelope sender' }
  | { address: null; reason: string };

/**
 * The one address a reply goes to — never several, so one inbound message can make at most one reply:
 * 1. the handler's `to`, when it is a plain mailbox;
 * 2. the first usable Reply-To address (the others are ignored), when the From domain is authenticated
 *    (DMARC pass, or an aligned DKIM pass: {@link isDmarcAligned}) or the handler said `useReplyTo`;
 * 3. the From address, when the From domain is authenticated;
 * 4. otherwise the envelope sender (Return-Path), where RFC 3834 §4 sends automatic responses: an
 *    unauthenticated From or Reply-To is whatever the sender typed, and would let anyone aim our replies
 *    at a third party. The name is the From's when both are the same address.
 * Null (with the reason) when the chosen rule gives no usable address.
 */
export function replyRecipient(input: ReplyRecipientInput): ReplyRecipient {
  const { message, envelope } = input;
  if (input.to !== undefined) {
    const given = typeof input.to === 'string' ? { address: input.to.trim(), name: '' } : input.to;
    if (!isSendableAddress(given.address)) {
      return { address: null, reason: `to ${JSON.stringify(given.address)} is not a plain mailbox` };
    }
    return { address: { address: given.address, name: displayName(given.name) }, via: 'to' };
  }
  const trusted = isDmarcAligned(input.auth);
  if (trusted || input.useReplyTo) {
    const first = message.replyTo.find((a) => isSendableAddress(a.address));
    if (first) return { address: { address: first.address, name: displayName(first.name) }, via: 'reply-to' };
  }
  const from = message.from;
  if (trusted && from && isSendableAddress(from.address)) {
    return { address: { address: from.address, name: displayName(from.name) }, via: 'from' };
  }
  const sender = envelope.mailFrom.trim().replace(/^<(.*)>$/, '$1');
  if (!isSendableAddress(sender)) {
    return {
      address: null,
      reason: trusted
        ? 'the original has no usable Reply-To, From or envelope sender address'
        : 'the original is not authenticated (DMARC) and its envelope sender is not a usable address',
    };
  }
  const name = from && from.address.toLowerCase() === sender.toLowerCase() ? displayName(from.name) : '';
  return { address: { address: sender, name }, via: 'envelope sender' };
}
