import { normalizeAuthservId } from './authserv-id.ts';
import { headerFields } from './header-fields.ts';

/** A byte range `[start, end)` of one header field (its line ends and continuation lines included). */
export interface HeaderFieldSpan {
  start: number;
  end: number;
}

/**
 * Header fields that carry a verdict, which anyone upstream — the sender included — can write. Mailroom
 * never reads a verdict from them: verdicts come only from {@link authenticateMessage} or from the SES
 * receipt ({@link mapSesVerdicts}), never from `X-SES-Spam-Verdict:` in the message (SES writes those into
 * the stored copy, but so can a sender). They stay in the stored bytes, except the Authentication-Results
 * that claim our own authserv-id, which {@link stripForgedAuthResults} removes (RFC 8601 §5).
 */
export const SENDER_VERDICT_HEADERS: readonly RegExp[] = [
  /^authentication-results$/i,
  /^arc-authentication-results$/i,
  /^received-spf$/i,
  /^x-ses-/i,
  /^x-mailroom-/i,
  /^x-spam-/i,
  /^x-virus-/i,
];

/** Whether a header field name is one whose verdict Mailroom ignores (see {@link SENDER_VERDICT_HEADERS}). */
export function isSenderVerdictHeader(name: string): boolean {
  const key = name.trim();
  return SENDER_VERDICT_HEADERS.some((re) => re.test(key));
}

/**
 * The `Authentication-Results` fields of the top-level header block whose authserv-id is ours: compared
 * without case, ignoring a trailing dot, read past comments and folding (CFWS) and quoted-strings. Those
 * are forgeries (or an old copy of our own) that the ingress must drop before prepending its own
 * (RFC 8601 §5). Fields in attached messages (the body) are not looked at. Linear in the header size.
 * @throws AuthConfigError when `authservId` is not a host name.
 */
export function findForgedAuthResults(raw: Buffer, authservId: string): HeaderFieldSpan[] {
  const ours = normalizeAuthservId(authservId);
  const spans: HeaderFieldSpan[] = [];
  for (const field of headerFields(raw, 'authentication-results')) {
    const claimed = readAuthservId(raw.toString('latin1', field.valueStart, field.end));
    if (claimed !== null && claimed.toLowerCase().replace(/\.$/, '') === ours) {
      spans.push({ start: field.start, end: field.end });
    }
  }
  return spans;
}

/**
 * `raw` without the `Authentication-Results` fields that claim our authserv-id (see
 * {@link findForgedAuthResults}), and how many were removed. When none were, `raw` is returned as is.
 * @throws AuthConfigError when `authservId` is not a host name.
 */
export function stripForgedAuthResults(raw: Buffer, authservId: string): { raw: Buffer; removed: number } {
  const spans = findForgedAuthResults(raw, authservId);
  return { raw: withoutSpans(raw, spans), removed: spans.length };
}

/** `raw` without the byte ranges `spans` (in order, not overlapping); `raw` itself when there are none. */
export function withoutSpans(raw: Buffer, spans: readonly HeaderFieldSpan[]): Buffer {
  if (spans.length === 0) return raw;
  const parts: Buffer[] = [];
  let pos = 0;
  for (const span of spans) {
    parts.push(raw.subarray(pos, span.start));
    pos = span.end;
  }
  parts.push(raw.subarray(pos));
  return Buffer.concat(parts);
}

const TSPECIAL_OR_SPACE = /[\x00-\x20()<>@,;:\\"/[\]?=\x7f]/;

/** The authserv-id at the start of an Authentication-Results value, past CFWS; null when there is none. */
function readAuthservId(value: string): string | null {
  let i = skipCfws(value, 0);
  if (i >= value.length) return null;
  if (value[i] === '"') {
    let out = '';
    for (i++; i < value.length; i++) {
      const c = value[i]!;
      if (c === '\\') {
        i++;
        out += value[i] ?? '';
      } else if (c === '"') {
        return out.trim();
      } else if (c !== '\r' && c !== '\n') {
        out += c;
      }
    }
    return out.trim();
  }
  let end = i;
  while (end < value.length && !TSPECIAL_OR_SPACE.test(value[end]!)) end++;
  return end > i ? value.slice(i, end) : null;
}

/** Skips folding white space and (nested) comments. */
function skipCfws(value: string, start: number): number {
  let i = start;
  let depth = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '(') {
      depth = 1;
    } else if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n') {
      break;
    }
    i++;
  }
  return i;
}
