import addressparser from 'nodemailer/lib/addressparser';
import type { Address, ParsedMessage } from '../message/index.ts';
import { headerText } from './header-text.ts';
import { isSendableAddress } from './sender-address.ts';
import type { OutboundEnvelope } from './types.ts';

/** The header Mailroom adds to every forward: the recipients it was forwarded for (its loop marker). */
export const FORWARDED_FOR_HEADER = 'X-Mailroom-Forwarded-For';
/** The header holding the original From. */
export const ORIGINAL_FROM_HEADER = 'X-Original-From';

/**
 * Header fields removed from a forwarded message, and why:
 * - `from`, `reply-to`: replaced (From must be a verified address; replies go to the original sender).
 * - `sender`, `return-path`: SES requires them to be verified addresses too, and a Return-Path would send
 *   the forward's bounces and complaints to the original sender; the sending service sets its own.
 * - `dkim-signature`, `domainkey-signature`: the rewritten From breaks them, and SES refuses a message
 *   with more than one (`Duplicate header 'DKIM-Signature'`); SES signs the forward itself.
 * - `arc-*`, `authentication-results`: our and earlier hops' verdicts, meaningless (and misleading) to
 *   the next receiver, and a broken ARC chain.
 * - `bcc`: never shown to recipients.
 * - `x-original-from`: replaced by ours, so there is one.
 * - `content-length`: not part of Internet mail; stale when anything changed.
 */
const REMOVED = new Set([
  'from',
  'reply-to',
  'sender',
  'return-path',
  'dkim-signature',
  'domainkey-signature',
  'arc-seal',
  'arc-message-signature',
  'arc-authentication-results',
  'authentication-results',
  'bcc',
  'x-original-from',
  'content-length',
]);

/**
 * `X-SES-*` headers are removed: SES reads `X-SES-CONFIGURATION-SET`, `X-SES-MESSAGE-TAGS` and the
 * sending-authorization `X-SES-*-ARN` headers of a raw message, which a sender must never control; SES
 * receipt headers (`X-SES-Spam-Verdict`, `X-SES-RECEIPT`…) only describe our own receipt.
 */
const REMOVED_PREFIXES = ['x-ses-'];

/**
 * Fields SES refuses to see more than once (its "header fields" list): a forwarded message keeps only the
 * first of each, since a sloppy or hostile original may repeat them and one bad header fails the send.
 */
const SINGLE = new Set([
  'accept-language',
  'acceptlanguage',
  'archived-at',
  'auto-submitted',
  'bounces-to',
  'comments',
  'content-alternative',
  'content-base',
  'content-class',
  'content-description',
  'content-disposition',
  'content-duration',
  'content-id',
  'content-language',
  'content-location',
  'content-md5',
  'content-transfer-encoding',
  'content-type',
  'date',
  'delivered-to',
  'disposition-notification-options',
  'disposition-notification-to',
  'errors-to',
  'importance',
  'in-reply-to',
  'keywords',
  'list-archive',
  'list-help',
  'list-id',
  'list-owner',
  'list-post',
  'list-subscribe',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'message-context',
  'message-id',
  'mime-version',
  'organization',
  'original-from',
  'original-message-id',
  'original-recipient',
  'original-subject',
  'precedence',
  'priority',
  'references',
  'return-receipt-to',
  'solicitation',
  'sensitivity',
  'subject',
  'thread-index',
  'thread-topic',
  'user-agent',
  'vbr-info',
]);

/** Address fields re-encoded when they hold 8-bit text (SMTPUTF8 mail sent on as plain 7-bit mail). */
const ADDRESS_FIELDS = new Set(['to', 'cc', 'resent-to', 'resent-cc', 'resent-from', 'resent-sender']);
/** Free-text fields re-encoded as RFC 2047 words when they hold 8-bit text. */
const TEXT_FIELDS = new Set(['subject', 'comments', 'organization', 'thread-topic', 'keywords']);

/** Longest display name taken from the original sender. */
const MAX_DISPLAY_NAME = 100;

export interface ForwardMessageInput {
  /** The stored raw message. */
  raw: Buffer;
  /** Its parse (for the decoded From and Reply-To). */
  message: ParsedMessage;
  /** The verified sending address; its name labels the From ("Jane Doe via <name>"). */
  from: Address;
  /** The forward targets: the only recipients. */
  to: string[];
  /** The envelope recipients this forward serves (the `X-Mailroom-Forwarded-For` value). */
  forwardedFor: string[];
}

export interface ForwardedMessage {
  raw: Buffer;
  envelope: OutboundEnvelope;
  /** Lower-case names of the header fields removed (including repeated ones dropped), sorted. */
  removed: string[];
  /** Header lines that were not header fields (no name or colon) and were dropped. */
  malformedLines: number;
}

interface Field {
  lower: string;
  /** The field as stored (latin1 text: one character per byte), folding kept, no final CRLF. */
  text: string;
}

const FIELD_NAME = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/** Splits raw bytes at the first empty line. The header block is latin1 text (one char per byte). */
function splitMessage(raw: Buffer): { head: string; body: Buffer; lf: boolean } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const startsEmpty = raw[0] === 0x0a || (raw[0] === 0x0d && raw[1] === 0x0a);
  if (startsEmpty) return { head: '', body: raw.subarray(raw[0] === 0x0a ? 1 : 2), lf: raw[0] === 0x0a };
  if (crlf >= 0 && (lf < 0 || crlf < lf)) {
    return { head: raw.subarray(0, crlf).toString('latin1'), body: raw.subarray(crlf + 4), lf: false };
  }
  if (lf >= 0) return { head: raw.subarray(0, lf).toString('latin1'), body: raw.subarray(lf + 2), lf: true };
  return { head: raw.toString('latin1'), body: Buffer.alloc(0), lf: false };
}

/**
 * A bare CR or a NUL inside a header line: some readers end the line there, so text after it would become
 * a header field of its own (header injection). Each run becomes one space.
 */
const LINE_BREAKERS = /[\r\0]+/g;

function parseFields(head: string): { fields: Field[]; malformed: number } {
  const fields: Field[] = [];
  let malformed = 0;
  let current: Field | null = null;
  for (const raw of head.split(/\r?\n/)) {
    const line = raw.replace(LINE_BREAKERS, ' ');
    if (/^[ \t]/.test(line)) {
      // A continuation of blanks only is dropped: a lax reader could take it for the end of the header.
      if (current && line.trim() !== '') current.text += `\r\n${line}`;
      else if (!current) malformed++;
      continue;
    }
    const m = FIELD_NAME.exec(line);
    if (!m) {
      current = null;
      if (line !== '') malformed++;
      continue;
    }
    current = { lower: m[1]!.toLowerCase(), text: line };
    fields.push(current);
  }
  return { fields, malformed };
}

const has8bit = (s: string) => /[\x80-\xff]/.test(s);

/** RFC 2047 B-encoded words of `text`, each at most 75 characters, split on character boundaries. */
export function encodeWords(text: string): string[] {
  const words: string[] = [];
  let chunk = '';
  const flush = () => {
    if (chunk) words.push(`=?UTF-8?B?${Buffer.from(chunk, 'utf8').toString('base64')}?=`);
    chunk = '';
  };
  for (const ch of text) {
    // 45 bytes of UTF-8 → 60 base64 characters + 12 of framing = 72.
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) flush();
    chunk += ch;
  }
  flush();
  return words;
}

/** A display name as a header phrase: a quoted string when ASCII, else encoded words (no controls in either). */
function phrase(name: string): string {
  const clean = headerText(name).trim();
  if (/^[\x20-\x7e]*$/.test(clean)) return `"${clean.replace(/(["\\])/g, '\\$1')}"`;
  return encodeWords(clean).join(' ');
}

/** `"Name" <address>` (or the bare address), 7-bit. */
export function formatAddress(a: Address): string {
  return a.name.trim() ? `${phrase(a.name)} <${a.address}>` : a.address;
}

/** A plain ASCII mailbox that a header and an SMTP envelope can carry. */
function usable(address: string): boolean {
  return /^[\x21-\x7e]+$/.test(address) && isSendableAddress(address);
}

/** Folds `name: value` at spaces so that lines stay near 78 characters (never splitting a word). */
function fold(name: string, value: string): string {
  const words = value.split(' ');
  let out = `${name}:`;
  let line = out.length;
  for (const w of words) {
    if (line + 1 + w.length > 78 && line > name.length + 1) {
      out += `\r\n ${w}`;
      line = 1 + w.length;
    } else {
      out += ` ${w}`;
      line += 1 + w.length;
    }
  }
  return out;
}

/** The unfolded value of a stored field, decoded as UTF-8. */
function fieldValue(field: Field): { name: string; value: string } {
  const colon = field.text.indexOf(':');
  const name = field.text.slice(0, colon).trim();
  const value = Buffer.from(field.text.slice(colon + 1), 'latin1')
    .toString('utf8')
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
  return { name, value };
}

/** A kept field as 7-bit text: 8-bit address and free-text fields are re-encoded; others kept as they are. */
function sevenBit(field: Field): string {
  if (!has8bit(field.text)) return field.text;
  const { name, value } = fieldValue(field);
  if (ADDRESS_FIELDS.has(field.lower)) {
    const list = addressparser(value, { flatten: true }).filter((a) => usable(a.address));
    if (list.length > 0) return fold(name, list.map((a) => formatAddress(a)).join(', '));
    return field.text;
  }
  if (TEXT_FIELDS.has(field.lower) || field.lower.startsWith('x-'))
    return fold(name, encodeWords(value).join(' '));
  return field.text;
}

/**
 * The Subject as kept, unless its encoded-words decode to control characters (`=?UTF-8?B?…?=` holding
 * CRLF + `Bcc: …`): then it is written anew from the decoded subject with those characters as spaces, so
 * no reader that decodes it finds a line break in it.
 */
function subjectField(field: Field, decoded: string | null): string {
  if (decoded === null || !field.text.includes('=?') || headerText(decoded) === decoded)
    return sevenBit(field);
  return fold('Subject', encodeWords(headerText(decoded).trim()).join(' '));
}

function localPart(address: string): string {
  const at = address.lastIndexOf('@');
  return at > 0 ? address.slice(0, at) : address;
}

/**
 * Rewrites a received message for forwarding, the body bytes untouched:
 * - `From:` the verified sending address, named after the original sender: `"Jane Doe via Support"
 *   <fwd@example.com>` (the sender's local part when they gave no name; "Mailroom" when `from` has no name);
 * - `Reply-To:` the original Reply-To when it had a usable one, else the original From, so answers go to
 *   the person who wrote;
 * - `X-Original-From:` the original From; `X-Mailroom-Forwarded-For:` the recipients it came to (added on
 *   top, earlier ones kept: loop detection counts them);
 * - removed: see the field lists in this module (Sender, Return-Path, DKIM and ARC signatures,
 *   Authentication-Results, Bcc, `X-SES-*`…), and repeats of single-instance fields beyond the first;
 * - kept 8-bit address and text fields are re-encoded as RFC 2047 words; lines that are not header fields
 *   are dropped; line ends are CRLF;
 * - no header injection: a bare CR or NUL inside a field becomes a space, blank continuation lines are
 *   dropped, names lose their control characters, and a Subject whose encoded-words decode to a line
 *   break is re-encoded without it.
 * To, Cc, Subject, Date, Message-ID, References and the MIME structure stay as they were: the forward reads
 * like the original, and threads with it.
 */
export function forwardMessage(input: ForwardMessageInput): ForwardedMessage {
  const { head, body, lf } = splitMessage(input.raw);
  const { fields, malformed } = parseFields(head);
  const removed = new Set<string>();
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const field of fields) {
    const l = field.lower;
    if (REMOVED.has(l) || REMOVED_PREFIXES.some((p) => l.startsWith(p))) {
      removed.add(l);
      continue;
    }
    if (SINGLE.has(l)) {
      if (seen.has(l)) {
        removed.add(l);
        continue;
      }
      seen.add(l);
    }
    kept.push(l === 'subject' ? subjectField(field, input.message.subject) : sevenBit(field));
  }

  const original = input.message.from;
  const sender = original && usable(original.address) ? original : null;
  const who = (
    original?.name.trim() ||
    (original ? localPart(original.address) : '') ||
    'unknown sender'
  ).slice(0, MAX_DISPLAY_NAME);
  const label = input.from.name.trim() || 'Mailroom';
  const replyTo = input.message.replyTo.filter((a) => usable(a.address));
  const replyTargets = replyTo.length > 0 ? replyTo : sender ? [sender] : [];

  const added: string[] = [
    fold(FORWARDED_FOR_HEADER, input.forwardedFor.filter(usable).join(', ') || 'unknown'),
    fold('From', formatAddress({ name: `${who} via ${label}`, address: input.from.address })),
  ];
  if (replyTargets.length > 0) added.push(fold('Reply-To', replyTargets.map(formatAddress).join(', ')));
  if (sender) added.push(fold(ORIGINAL_FROM_HEADER, formatAddress(sender)));

  const headBytes = Buffer.from(`${[...added, ...kept].join('\r\n')}\r\n\r\n`, 'latin1');
  const bodyBytes = lf ? Buffer.from(body.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') : body;
  return {
    raw: Buffer.concat([headBytes, bodyBytes]),
    envelope: { from: input.from.address, to: [...input.to] },
    removed: [...removed].sort(),
    malformedLines: malformed,
  };
}
