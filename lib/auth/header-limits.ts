/**
 * How complex a header block mailauth is given. mailauth's parsing is superlinear in several shapes of
 * header (measured on mailauth 4.13): joining folded lines is quadratic in continuation lines (40,000 took
 * ~4 s, 150,000 over a minute), `h=` lookup costs names × fields per signature, one regex is quadratic in
 * runs of CR/LF bytes and another in runs of `;`, `:` and white space inside signature fields, and its
 * From: address parser is quadratic in addresses (bounded here by the block size). Within these limits
 * each of those steps costs milliseconds; real mail is far inside every one of them.
 */
export interface HeaderLimits {
  /** Bytes of the top-level header block (Postfix's `header_size_limit` is 100 KiB per field). */
  maxHeaderBytes: number;
  /** Header fields (lines that are not continuation lines). */
  maxFields: number;
  /** Continuation lines of folded fields, all fields together. */
  maxContinuationLines: number;
  /** Longest run of CR and LF bytes (a line end is 2). */
  maxLineBreakRun: number;
  /** Header names listed in one `h=` tag of a DKIM-Signature or ARC-Message-Signature. */
  maxSignedHeaders: number;
  /** Longest run of `;`, `:` and white space inside a DKIM-Signature, ARC-Seal or ARC-Message-Signature. */
  maxSeparatorRun: number;
}

export const DEFAULT_HEADER_LIMITS: Readonly<HeaderLimits> = {
  maxHeaderBytes: 128 * 1024,
  maxFields: 1000,
  maxContinuationLines: 5000,
  maxLineBreakRun: 16,
  maxSignedHeaders: 256,
  maxSeparatorRun: 64,
};

/** The first limit a header block goes over. */
export interface HeaderLimitProblem {
  limit: keyof HeaderLimits;
  /** What the message has (for `maxHeaderBytes`: the block's size). */
  found: number;
  max: number;
  /** One line for verdict comments, e.g. `header block too complex: 150000 continuation lines, limit 5000`. */
  message: string;
}

const WHAT: Record<keyof HeaderLimits, string> = {
  maxHeaderBytes: 'bytes of header',
  maxFields: 'header fields',
  maxContinuationLines: 'continuation lines',
  maxLineBreakRun: 'CR/LF bytes in a row',
  maxSignedHeaders: 'header names in one signature h= tag',
  maxSeparatorRun: 'separator bytes in a row in a signature field',
};

/** Fields mailauth runs its signature regexes on; `true` when it also looks up their `h=` names. */
const SIGNATURE_FIELDS = new Map([
  ['dkim-signature', true],
  ['arc-message-signature', true],
  ['arc-seal', false],
]);

/**
 * Whether `raw`'s header block is within `limits` (missing ones take {@link DEFAULT_HEADER_LIMITS}), as
 * mailauth sees the block: up to the first empty line, or the whole message when there is none. Returns
 * the first limit exceeded, or null. One pass over the block, which is not read past `maxHeaderBytes`.
 */
export function checkHeaderLimits(
  raw: Buffer,
  limits: Partial<HeaderLimits> = {},
): HeaderLimitProblem | null {
  const max: HeaderLimits = { ...DEFAULT_HEADER_LIMITS, ...limits };
  const end = headerBlockEnd(raw);
  if (end.size > max.maxHeaderBytes) return problem('maxHeaderBytes', end.size, max);
  const counts = countLines(raw, end.lines);
  for (const limit of ['maxFields', 'maxContinuationLines', 'maxLineBreakRun'] as const) {
    if (counts[limit] > max[limit]) return problem(limit, counts[limit], max);
  }
  for (const field of counts.signatures) {
    const run = longestRun(raw, field.start, field.end, isSeparator);
    if (run > max.maxSeparatorRun) return problem('maxSeparatorRun', run, max);
    if (!field.signsHeaders) continue;
    const names = signedHeaderCount(raw.toString('latin1', field.start, field.end));
    if (names > max.maxSignedHeaders) return problem('maxSignedHeaders', names, max);
  }
  return null;
}

function problem(limit: keyof HeaderLimits, found: number, max: HeaderLimits): HeaderLimitProblem {
  return {
    limit,
    found,
    max: max[limit],
    message: `header block too complex: ${found} ${WHAT[limit]}, limit ${max[limit]}`,
  };
}

/**
 * Where mailauth's message parser ends the header: just past the first LF that follows an LF or a CRLF
 * (`\n\n`, `\n\r\n`); the whole message when there is none. (A message whose first line is empty has no
 * such LF there: mailauth reads on.)
 */
export function mailauthHeaderEnd(raw: Buffer): number {
  return headerBlockEnd(raw).size;
}

/**
 * Where mailauth's header block ends: `size` just past the first `LF LF` or `LF CR LF`, `lines` where that
 * empty line starts; both the message's end when there is none.
 */
function headerBlockEnd(raw: Buffer): { size: number; lines: number } {
  const crlf = raw.indexOf(LF_CRLF);
  // An LF LF counts only before the first LF CR LF (then it is not searched for in the body).
  const lf = (crlf < 0 ? raw : raw.subarray(0, crlf + 1)).indexOf(LF_LF);
  if (lf >= 0) return { size: lf + 2, lines: lf + 1 };
  if (crlf >= 0) return { size: crlf + 3, lines: crlf + 1 };
  return { size: raw.length, lines: raw.length };
}

const LF_LF = Buffer.from('\n\n', 'latin1');
const LF_CRLF = Buffer.from('\n\r\n', 'latin1');

interface SignatureField {
  start: number;
  end: number;
  signsHeaders: boolean;
}

interface LineCounts {
  maxFields: number;
  maxContinuationLines: number;
  maxLineBreakRun: number;
  signatures: SignatureField[];
}

/**
 * Counts lines as mailauth splits them (at LF): a line starting with white space (JavaScript's `\s` on a
 * latin1 string) continues the field above it. Also finds the signature fields and the longest CR/LF run.
 */
function countLines(raw: Buffer, end: number): LineCounts {
  const counts: LineCounts = { maxFields: 0, maxContinuationLines: 0, maxLineBreakRun: 0, signatures: [] };
  let current: SignatureField | null = null;
  let lineStart = true;
  let run = 0;
  for (let i = 0; i < end; i++) {
    const byte = raw[i]!;
    if (lineStart) {
      lineStart = false;
      if (i > 0 && isWhiteSpace(byte)) {
        counts.maxContinuationLines++;
      } else {
        counts.maxFields++;
        current = signatureField(raw, i, end);
        if (current) counts.signatures.push(current);
      }
    }
    if (byte === 0x0a) lineStart = true;
    run = byte === 0x0a || byte === 0x0d ? run + 1 : 0;
    if (run > counts.maxLineBreakRun) counts.maxLineBreakRun = run;
    if (current) current.end = i + 1;
  }
  return counts;
}

/** The value of the field starting at `start` when it is one of {@link SIGNATURE_FIELDS}, else null. */
function signatureField(raw: Buffer, start: number, end: number): SignatureField | null {
  const first = raw[start]! | 0x20;
  if (first !== 0x64 && first !== 0x61) return null; // only d… and a… names can match
  const colon = raw.subarray(start, Math.min(end, start + 32)).indexOf(0x3a);
  if (colon <= 0) return null;
  const name = raw
    .toString('latin1', start, start + colon)
    .trim()
    .toLowerCase();
  const signsHeaders = SIGNATURE_FIELDS.get(name);
  return signsHeaders === undefined
    ? null
    : { start: start + colon + 1, end: start + colon + 1, signsHeaders };
}

function longestRun(raw: Buffer, start: number, end: number, member: (byte: number) => boolean): number {
  let longest = 0;
  let run = 0;
  for (let i = start; i < end; i++) {
    run = member(raw[i]!) ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}

/** JavaScript's `\s` among latin1 characters. */
function isWhiteSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d) || byte === 0xa0;
}

function isSeparator(byte: number): boolean {
  return byte === 0x3b || byte === 0x3a || isWhiteSpace(byte);
}

/** The most header names any `h=` tag of a signature value lists (empty names are not counted, as in mailauth). */
function signedHeaderCount(value: string): number {
  let most = 0;
  for (const tag of value.split(';')) {
    const eq = tag.indexOf('=');
    if (eq < 0 || tag.slice(0, eq).trim().toLowerCase() !== 'h') continue;
    const names = tag
      .slice(eq + 1)
      .split(':')
      .filter((n) => n.trim()).length;
    most = Math.max(most, names);
  }
  return most;
}
