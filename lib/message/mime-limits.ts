import { parseStructuredValue } from './header-params.ts';
import type { ParseLimits } from './types.ts';

/** The limits `parseMessage` applies when the caller gives none (see {@link ParseLimits}). */
export const DEFAULT_PARSE_LIMITS: Readonly<Required<ParseLimits>> = Object.freeze({
  maxParts: 1000,
  maxDepth: 32,
  maxHeaderBytes: 1024 * 1024,
  maxHeaders: 2000,
});

/**
 * Lines handed to the MIME parser at most. Its cost is per line (a message of ten million empty lines
 * takes seconds and ~700 MB), while a 40 MB message of 76-character base64 lines has ~540 000.
 */
export const MAX_LINES = 1_000_000;

/** Which limit stopped the scan. */
export type LimitKind = 'parts' | 'depth' | 'part-header-bytes' | 'part-headers' | 'lines';

/** What a linear pre-scan of the raw bytes found. Offsets are byte offsets into the raw message. */
export interface MimeScan {
  /** Bytes of the top-level header block (without the blank line that ends it). */
  headerBytes: number;
  /** Fields in the top-level header block. */
  headerFields: number;
  /** Whether a blank line ends the top-level header block. */
  headerTerminated: boolean;
  /** Offset of the first body byte (the message length when the header block is unterminated). */
  bodyStart: number;
  /** Whether the top-level header block is over `maxHeaderBytes` or `maxHeaders`. */
  headerLimitExceeded: boolean;
  /** MIME nodes seen, the top-level message included (up to the cut). */
  parts: number;
  /** Deepest nesting seen: 0 for the top level, 1 for a part of a top-level multipart, … */
  depth: number;
  /** Lines scanned (up to the cut). */
  lines: number;
  /** Lines ending in CRLF and lines ending in a bare LF (up to the cut). */
  crlfLines: number;
  lfLines: number;
  /** NUL bytes in the whole message (counting stops at 10 000). */
  nulBytes: number;
  /** Charsets declared by text/* parts, lower-case, unique. */
  charsets: string[];
  /** Multipart sections whose closing delimiter never came. */
  unterminatedMultiparts: number;
  /** multipart/* parts without a usable boundary parameter. */
  multipartsWithoutBoundary: number;
  /** Where the MIME parser must stop reading, when a limit was hit in the body; null otherwise. */
  cut: { offset: number; kind: LimitKind } | null;
  /** Human-readable limit problems (`code: detail`). */
  problems: string[];
}

interface Frame {
  boundary: string;
  depth: number;
  children: number;
}

interface PartHeader {
  depth: number;
  start: number;
  bytes: number;
  fields: number;
  /** Whether continuation lines belong to the Content-Type field. */
  collecting: boolean;
  /** The (first) Content-Type value, capped, or null when the part has none. */
  contentType: string | null;
}

const MAX_COLLECTED_VALUE = 16 * 1024;
const MAX_NUL_COUNT = 10_000;
const MAX_CHARSETS = 32;
/** RFC 2046 caps boundaries at 70 characters; tolerate much longer, plus 998 bytes of trailing blanks. */
const MAX_DELIMITER_LINE = 2 + 1024 + 2 + 998;

/** Limits with the defaults filled in; invalid values (0, negative, NaN) take the default. */
export function effectiveLimits(limits?: ParseLimits): Required<ParseLimits> {
  const pick = (value: number | undefined, fallback: number): number =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
  return {
    maxParts: pick(limits?.maxParts, DEFAULT_PARSE_LIMITS.maxParts),
    maxDepth: pick(limits?.maxDepth, DEFAULT_PARSE_LIMITS.maxDepth),
    maxHeaderBytes: pick(limits?.maxHeaderBytes, DEFAULT_PARSE_LIMITS.maxHeaderBytes),
    maxHeaders: pick(limits?.maxHeaders, DEFAULT_PARSE_LIMITS.maxHeaders),
  };
}

function countNul(raw: Buffer): number {
  let count = 0;
  let at = raw.indexOf(0);
  while (at >= 0 && count < MAX_NUL_COUNT) {
    count++;
    at = raw.indexOf(0, at + 1);
  }
  return count;
}

/** The header name of a field line (`Content-Type ` → `content-type`), or null when the line has no colon early on. */
function fieldName(raw: Buffer, start: number, end: number): string | null {
  const stop = Math.min(end, start + 80);
  for (let i = start; i < stop; i++) {
    if (raw[i] === 0x3a) return raw.toString('latin1', start, i).trim().toLowerCase();
  }
  return null;
}

/** Matches a delimiter line against the open multiparts, innermost first. */
function matchDelimiter(
  raw: Buffer,
  start: number,
  end: number,
  stack: Frame[],
): { index: number; closing: boolean } | null {
  let stop = end;
  while (stop > start && (raw[stop - 1] === 0x20 || raw[stop - 1] === 0x09)) stop--;
  const line = raw.toString('latin1', start + 2, stop);
  for (let k = stack.length - 1; k >= 0; k--) {
    const boundary = stack[k]!.boundary;
    if (line === boundary) return { index: k, closing: false };
    if (line.length === boundary.length + 2 && line.startsWith(boundary) && line.endsWith('--')) {
      return { index: k, closing: true };
    }
  }
  return null;
}

/**
 * Scans the raw bytes once, linearly, the way the MIME splitter will read them: the top-level header
 * block (bytes and fields), every MIME part (multipart boundaries declared in each part's Content-Type,
 * delimiter lines), nesting depth, line count, line endings and NUL bytes.
 * When the parts, depth or line limit, or the header limit of an inner part, is crossed, the scan stops
 * and `cut` says where the MIME parser has to stop reading. Never throws.
 *
 * @param raw - The message as received.
 * @param limits - Limits to apply; missing ones take {@link DEFAULT_PARSE_LIMITS}.
 */
export function scanMimeLimits(raw: Buffer, limits?: ParseLimits): MimeScan {
  const lim = effectiveLimits(limits);
  const scan: MimeScan = {
    headerBytes: 0,
    headerFields: 0,
    headerTerminated: false,
    bodyStart: raw.length,
    headerLimitExceeded: false,
    parts: 1,
    depth: 0,
    lines: 0,
    crlfLines: 0,
    lfLines: 0,
    nulBytes: countNul(raw),
    charsets: [],
    unterminatedMultiparts: 0,
    multipartsWithoutBoundary: 0,
    cut: null,
    problems: [],
  };
  const charsets = new Set<string>();
  const stack: Frame[] = [];
  let header: PartHeader | null = newHeader(0, 0);
  let topLevel = true;
  let pos = 0;

  // An mbox "From " separator line is not part of the message (the splitter drops it as well).
  if (raw.length >= 5 && raw.toString('latin1', 0, 5) === 'From ') {
    const nl = raw.indexOf(0x0a);
    pos = nl < 0 ? raw.length : nl + 1;
  }

  const stop = (offset: number, kind: LimitKind, problem: string): void => {
    scan.cut = { offset, kind };
    scan.problems.push(`${problem}; only the first ${offset} of ${raw.length} bytes were parsed`);
  };

  while (pos < raw.length) {
    const nl = raw.indexOf(0x0a, pos);
    const next = nl < 0 ? raw.length : nl + 1;
    let end = nl < 0 ? raw.length : nl;
    if (nl >= 0) {
      if (end > pos && raw[end - 1] === 0x0d) {
        end--;
        scan.crlfLines++;
      } else {
        scan.lfLines++;
      }
    }
    while (end > pos && raw[end - 1] === 0x0d) end--;
    scan.lines++;
    if (scan.lines > MAX_LINES) {
      stop(pos, 'lines', `too-many-lines: more than ${MAX_LINES} lines`);
      break;
    }
    const len = end - pos;

    // Delimiter lines count anywhere, header blocks included, as the splitter reads them.
    if (
      stack.length > 0 &&
      len >= 3 &&
      len <= MAX_DELIMITER_LINE &&
      raw[pos] === 0x2d &&
      raw[pos + 1] === 0x2d
    ) {
      const hit = matchDelimiter(raw, pos, end, stack);
      if (hit) {
        const frame = stack[hit.index]!;
        if (hit.closing) {
          // A closing delimiter in the preamble of the innermost multipart does not close it.
          if (!(hit.index === stack.length - 1 && frame.children === 0)) stack.length = hit.index;
          header = null;
        } else {
          stack.length = hit.index + 1;
          frame.children++;
          scan.parts++;
          const depth = frame.depth + 1;
          if (scan.parts > lim.maxParts) {
            stop(pos, 'parts', `mime-parts-exceeded: more than ${lim.maxParts} MIME parts`);
            break;
          }
          if (depth > lim.maxDepth) {
            stop(pos, 'depth', `mime-depth-exceeded: nesting deeper than ${lim.maxDepth} levels`);
            break;
          }
          scan.depth = Math.max(scan.depth, depth);
          header = newHeader(depth, pos);
        }
        pos = next;
        continue;
      }
    }

    if (header) {
      if (len === 0) {
        // end of this header block
        if (topLevel) {
          scan.headerTerminated = true;
          scan.bodyStart = next;
          topLevel = false;
        }
        finishHeader(header, stack, scan, charsets);
        header = null;
        pos = next;
        continue;
      }
      header.bytes += next - pos;
      const continuation = raw[pos] === 0x20 || raw[pos] === 0x09;
      if (continuation) {
        if (header.collecting)
          appendContentType(header, raw.toString('latin1', pos, Math.min(end, pos + MAX_COLLECTED_VALUE)));
      } else {
        header.fields++;
        header.collecting = false;
        if (header.contentType === null && fieldName(raw, pos, end) === 'content-type') {
          // the splitter uses the first Content-Type of a part
          const colon = raw.indexOf(0x3a, pos);
          header.collecting = true;
          header.contentType = '';
          appendContentType(
            header,
            raw.toString('latin1', colon + 1, Math.min(end, colon + 1 + MAX_COLLECTED_VALUE)),
          );
        }
      }
      if (topLevel) {
        scan.headerBytes = header.bytes;
        scan.headerFields = header.fields;
        if (header.bytes > lim.maxHeaderBytes || header.fields > lim.maxHeaders)
          scan.headerLimitExceeded = true;
      } else if (header.bytes > lim.maxHeaderBytes || header.fields > lim.maxHeaders) {
        const kind: LimitKind = header.bytes > lim.maxHeaderBytes ? 'part-header-bytes' : 'part-headers';
        stop(
          header.start,
          kind,
          kind === 'part-header-bytes'
            ? `mime-header-too-large: a MIME part header is over ${lim.maxHeaderBytes} bytes`
            : `mime-too-many-headers: a MIME part header has more than ${lim.maxHeaders} fields`,
        );
        break;
      }
    }
    pos = next;
  }

  if (header && topLevel) {
    // the whole message was header: still learn the structure (nothing follows it anyway)
    finishHeader(header, stack, scan, charsets);
  }
  scan.unterminatedMultiparts = scan.cut ? 0 : stack.length;
  scan.charsets = [...charsets];
  if (scan.headerLimitExceeded) {
    scan.problems.unshift(
      scan.headerBytes > lim.maxHeaderBytes
        ? `header-too-large: the header section is ${scan.headerBytes} bytes, over the ${lim.maxHeaderBytes}-byte limit; only the first fields (and the essential ones) were parsed`
        : `too-many-headers: the header section has ${scan.headerFields} fields, over the ${lim.maxHeaders}-field limit; only the first fields (and the essential ones) were parsed`,
    );
  }
  return scan;
}

function newHeader(depth: number, start: number): PartHeader {
  return { depth, start, bytes: 0, fields: 0, collecting: false, contentType: null };
}

function appendContentType(header: PartHeader, text: string): void {
  const current = header.contentType ?? '';
  if (current.length >= MAX_COLLECTED_VALUE) return;
  header.contentType = (current + text).slice(0, MAX_COLLECTED_VALUE);
}

/**
 * Interprets a finished part header: pushes the boundary of a multipart, records a text charset.
 * message/rfc822 parts are not descended into: `parseMessage` keeps embedded messages as attachments.
 */
function finishHeader(header: PartHeader, stack: Frame[], scan: MimeScan, charsets: Set<string>): void {
  const contentType = parseStructuredValue(header.contentType ?? '');
  const type = contentType.value || 'text/plain';
  if (type.startsWith('multipart/')) {
    const boundary = (contentType.params.get('boundary') ?? '').trimEnd();
    // the splitter ignores a boundary with non-ASCII characters, as if it were missing
    if (boundary && /^[\x20-\x7e]+$/.test(boundary)) {
      stack.push({ boundary, depth: header.depth, children: 0 });
    } else {
      scan.multipartsWithoutBoundary++;
    }
  } else if (type.startsWith('text/')) {
    const charset = contentType.params.get('charset')?.trim().toLowerCase();
    if (charset && charsets.size < MAX_CHARSETS) charsets.add(charset);
  }
}
