import type { RawHeaderField } from './header-block.ts';
import type { MimeScan } from './mime-limits.ts';

/**
 * The top-level fields mailparser needs to read the body: the MIME structure (`Content-*`) and
 * `MIME-Version`. The others (From, Received, DKIM-Signature…) are read by parse-message.ts itself;
 * mailparser would only parse them again (addresses, encoded words, dates) for results nobody uses.
 */
const BODY_FIELD = /^(?:content-|mime-version$)/;

const CRLF = Buffer.from('\r\n');

/**
 * The input handed to mailparser, as slices of `raw` (no copy of the body): the message cut at the
 * scan's limit when it was over one, and, when the header section ends, only the fields that shape the
 * body ({@link BODY_FIELD}), each with its own bytes, then the blank line and the body. Without a blank
 * line the whole (cut) message is handed on as it is: mailparser then sees a header section and no body.
 */
export function bodyParserInput(raw: Buffer, scan: MimeScan, fields: readonly RawHeaderField[]): Buffer[] {
  let bodyEnd = scan.cut ? Math.max(scan.cut.offset, 0) : raw.length;
  if (scan.cut && bodyEnd > scan.bodyStart) {
    // the line break before a delimiter line belongs to the delimiter, not to the part it ends
    if (raw[bodyEnd - 1] === 0x0a) bodyEnd--;
    if (raw[bodyEnd - 1] === 0x0d) bodyEnd--;
  }
  if (!scan.headerTerminated && !scan.headerLimitExceeded) return [raw.subarray(0, bodyEnd)];
  const chunks: Buffer[] = [];
  for (const field of fields) {
    if (!BODY_FIELD.test(field.key)) continue;
    const bytes = raw.subarray(field.start, field.end);
    chunks.push(bytes);
    if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a) chunks.push(CRLF);
  }
  chunks.push(CRLF);
  if (scan.headerTerminated && bodyEnd > scan.bodyStart) chunks.push(raw.subarray(scan.bodyStart, bodyEnd));
  return chunks;
}

/** Bytes in `chunks`. */
export function byteLength(chunks: readonly Buffer[]): number {
  let n = 0;
  for (const chunk of chunks) n += chunk.length;
  return n;
}
