import { isIPv6 } from 'node:net';

export interface ReceivedHeaderInput {
  /** Name the client gave in HELO/EHLO; omitted when it gave none. */
  helo?: string | undefined;
  /** Client IP address. */
  remoteAddress: string;
  /** Our host name (the `by` part). */
  hostname: string;
  /** RFC 3848 protocol type. @default 'ESMTP' */
  protocol?: string | undefined;
  /** Our id for the transaction. */
  id: string;
  /** Envelope recipients; named in a `for` clause only when there is exactly one (never leak a Bcc). */
  recipients: readonly string[];
  /** @default new Date() */
  date?: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The `Received:` trace header we prepend to every accepted message (RFC 5321 §4.4), folded, ending in
 * CRLF:
 *
 * ```
 * Received: from client.example ([192.0.2.1])
 * \tby mailroom.local with ESMTP id 7f3k2a.1
 * \tfor <support@example.com>; Tue, 01 Jul 2025 10:00:00 +0000
 * ```
 *
 * No reverse DNS is looked up, so the TCP-info is only the address literal. Every value from the
 * client is reduced to characters that cannot break the header.
 */
export function receivedHeader(input: ReceivedHeaderInput): string {
  const literal = addressLiteral(input.remoteAddress);
  const helo = input.helo ? clean(input.helo, /[^A-Za-z0-9.:_[\]-]/g) : '';
  const from = helo ? `from ${helo} (${literal})` : `from ${literal}`;
  const protocol = clean(input.protocol || 'ESMTP', /[^A-Za-z0-9]/g);
  const by = `by ${clean(input.hostname, /[^A-Za-z0-9.:_[\]-]/g)} with ${protocol} id ${clean(input.id, /[^A-Za-z0-9._-]/g)}`;
  const rcpt =
    input.recipients.length === 1
      ? `for <${clean(input.recipients[0]!, /[^\x21-\x7e\u00a0-\uffff]|[<>;()]/g)}>`
      : '';
  const date = rfc5322Date(input.date ?? new Date());
  const last = rcpt ? `${rcpt}; ${date}` : `; ${date}`;
  return rcpt ? `Received: ${from}\r\n\t${by}\r\n\t${last}\r\n` : `Received: ${from}\r\n\t${by}${last}\r\n`;
}

function addressLiteral(address: string): string {
  const ip = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const safe = clean(ip, /[^0-9A-Fa-f.:]/g) || 'unknown';
  return isIPv6(safe) ? `[IPv6:${safe}]` : `[${safe}]`;
}

function clean(value: string, disallowed: RegExp): string {
  return value.replace(disallowed, '?').slice(0, 255);
}

/** `Tue, 01 Jul 2025 10:00:00 +0000` */
export function rfc5322Date(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
