import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';

/** What the loop checks look at. */
export interface LoopCheckInput {
  envelope: Envelope;
  message: ParsedMessage;
  /** Where the reply would go. */
  to: string[];
  /** The reply's From address. */
  from: string;
  automatic: boolean;
  /** Why `to` is empty, when the caller knows better than "no usable address". */
  noRecipient?: string;
}

const BULK_PRECEDENCE = new Set(['bulk', 'list', 'junk', 'auto_reply']);
const LIST_HEADERS = ['list-id', 'list-unsubscribe', 'list-post', 'list-help'];
const AUTO_HEADERS = ['x-autoreply', 'x-autorespond', 'x-autoresponder'];

/** RFC 3834 §2: never answer MAILER-DAEMON, owner-* or *-request (list and system senders). */
function isSystemSender(address: string): boolean {
  const local = address.slice(0, address.lastIndexOf('@')).toLowerCase();
  return local === 'mailer-daemon' || local.startsWith('owner-') || local.endsWith('-request');
}

/**
 * Why a reply to this message must not be sent, or null when it may be. Always refused: a message from the
 * null sender `<>` (bounces, delivery reports, auto-replies), no address to reply to, a reply to our own
 * address. For automatic replies (RFC 3834 §2) also: `Auto-Submitted` other than `no`,
 * `Precedence: bulk|list|junk|auto_reply`, `List-Id`/`List-Unsubscribe`/`List-Post`/`List-Help`,
 * `X-Auto-Response-Suppress: All|AutoReply|OOF`, `X-Autoreply`-style headers, `multipart/report`
 * (delivery and read reports), and MAILER-DAEMON, `owner-*` and `*-request` senders.
 */
export function replySkipReason(input: LoopCheckInput): string | null {
  const { envelope, message, to, from } = input;
  if (envelope.mailFrom.trim() === '' || envelope.mailFrom.trim() === '<>') {
    return 'the original came from the null sender <> (a bounce or an automatic message)';
  }
  if (to.length === 0) return input.noRecipient ?? 'the original has no usable Reply-To or From address';
  if (to.some((a) => a.toLowerCase() === from.toLowerCase())) {
    return `the reply would go to its own From address ${from}`;
  }
  if (!input.automatic) return null;

  const header = (key: string) => message.headers.find((h) => h.key === key)?.value.trim();
  const autoSubmitted = header('auto-submitted');
  if (autoSubmitted !== undefined) {
    const value = autoSubmitted.split(';')[0]!.trim().toLowerCase();
    if (value !== 'no') return `the original is automatic (Auto-Submitted: ${value || '(empty)'})`;
  }
  const precedence = header('precedence')?.toLowerCase();
  if (precedence !== undefined && BULK_PRECEDENCE.has(precedence)) {
    return `the original is bulk or list mail (Precedence: ${precedence})`;
  }
  const list = LIST_HEADERS.find((key) => header(key) !== undefined);
  if (list)
    return `the original is list mail (${list.replace(/(^|-)([a-z])/g, (_m, d, c) => d + c.toUpperCase())})`;
  const suppress = header('x-auto-response-suppress')?.toLowerCase();
  if (suppress && /(^|[\s,])(all|autoreply|oof)($|[\s,])/.test(suppress)) {
    return `the original asks for no automatic replies (X-Auto-Response-Suppress: ${suppress})`;
  }
  const auto = AUTO_HEADERS.find((key) => header(key) !== undefined);
  if (auto) return `the original is an automatic reply (${auto})`;
  if (/^\s*multipart\/report\b/i.test(header('content-type') ?? '')) {
    return 'the original is a delivery or read report (multipart/report)';
  }
  const system = [envelope.mailFrom, ...to].find(isSystemSender);
  if (system) return `the original came from a system address (${system})`;
  return null;
}
