import { isAscii } from 'node:buffer';
import { type CharsetContext, decodeWithContext } from './charset-decide.ts';

/** One field of the top-level header block, as found in the raw bytes. */
export interface RawHeaderField {
  /** Lower-case name. */
  key: string;
  /**
   * Unfolded value with raw 8-bit bytes decoded (valid UTF-8, else a charset the message declares, else
   * Windows-1252: see charset-decide.ts); encoded words kept.
   */
  raw: string;
  /** Byte span of the whole field, line endings included, in the raw message. */
  start: number;
  end: number;
}

/** The top-level header block, bounded by the limits. */
export interface HeaderBlock {
  /** Fields kept, in order: all fields within the limits, then only essential ones past them. */
  fields: RawHeaderField[];
  /** Lines in the header block that are neither a field nor a continuation. */
  invalidLines: number;
  /** Whether fields past the limits were dropped. */
  truncated: boolean;
}

/** Fields kept even past the limits: everything the parse result and the MIME structure depend on. */
const ESSENTIAL = new Set([
  'from',
  'to',
  'cc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'in-reply-to',
  'references',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
]);
/** An essential field past the limits is kept only up to this size (and only its first occurrence). */
const MAX_ESSENTIAL_FIELD = 64 * 1024;

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Splits the top-level header block `[start, end)` of `raw` into fields. Within `maxFields` fields and
 * `maxBytes` bytes every field is kept; past that only the first occurrence of each essential field
 * (From, Subject, Date, Message-ID, Content-Type, …) up to 64 KiB. Raw 8-bit bytes are decoded per field
 * with `charsets` (the message's declared charsets; fallbacks reported to it). Linear; never throws.
 */
export function readHeaderBlock(
  raw: Buffer,
  start: number,
  end: number,
  maxFields: number,
  maxBytes: number,
  charsets?: CharsetContext,
): HeaderBlock {
  const block: HeaderBlock = { fields: [], invalidLines: 0, truncated: false };
  const seenPastLimit = new Set<string>();
  let pos = start;
  if (end - pos >= 5 && raw.toString('latin1', pos, pos + 5) === 'From ') {
    const nl = raw.indexOf(0x0a, pos);
    pos = nl < 0 || nl >= end ? end : nl + 1;
  }
  const headerStart = pos;
  let fieldStart = -1;
  let fieldName = '';
  let lineCount = 0;

  const finish = (fieldEnd: number): void => {
    if (fieldStart < 0) return;
    const withinLimits = block.fields.length < maxFields && fieldEnd - headerStart <= maxBytes;
    if (withinLimits && !block.truncated) {
      block.fields.push(makeField(raw, fieldName, fieldStart, fieldEnd, charsets));
    } else {
      block.truncated = true;
      if (
        ESSENTIAL.has(fieldName) &&
        !seenPastLimit.has(fieldName) &&
        fieldEnd - fieldStart <= MAX_ESSENTIAL_FIELD
      ) {
        seenPastLimit.add(fieldName);
        if (!block.fields.some((f) => f.key === fieldName)) {
          block.fields.push(makeField(raw, fieldName, fieldStart, fieldEnd, charsets));
        }
      }
    }
    fieldStart = -1;
  };

  while (pos < end) {
    const nl = raw.indexOf(0x0a, pos);
    const next = nl < 0 || nl >= end ? end : nl + 1;
    lineCount++;
    const first = raw[pos];
    if (first === 0x20 || first === 0x09) {
      // continuation line; one without a field before it is ignored
      if (fieldStart < 0 && lineCount > 1) block.invalidLines++;
    } else {
      finish(pos);
      let colon = -1;
      const scanEnd = Math.min(next, pos + 256);
      for (let i = pos; i < scanEnd; i++) {
        if (raw[i] === 0x3a) {
          colon = i;
          break;
        }
      }
      const name = colon > pos ? raw.toString('latin1', pos, colon).trimEnd() : '';
      if (name && FIELD_NAME.test(name)) {
        fieldStart = pos;
        fieldName = name.toLowerCase();
      } else if (!isBlankLine(raw, pos, next)) {
        block.invalidLines++;
      }
    }
    pos = next;
  }
  finish(end);
  return block;
}

function isBlankLine(raw: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = raw[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

function makeField(
  raw: Buffer,
  key: string,
  start: number,
  end: number,
  charsets: CharsetContext | undefined,
): RawHeaderField {
  const colon = raw.indexOf(0x3a, start);
  const bytes = raw.subarray(colon + 1, end);
  const text = isAscii(bytes)
    ? bytes.toString('latin1')
    : decodeWithContext(bytes, null, 'header', key, charsets);
  // unfold: a line break followed by whitespace is removed (RFC 5322 section 2.2.3)
  const unfolded = text.replace(/\r?\n(?=[ \t])/g, '');
  return { key, raw: trimWhitespace(unfolded), start, end };
}

/** Trims SP, HTAB, CR and LF at both ends (a loop, not a regex: no backtracking on long runs). */
export function trimWhitespace(value: string): string {
  let start = 0;
  let end = value.length;
  const ws = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
  while (start < end && ws(value.charCodeAt(start))) start++;
  while (end > start && ws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}
