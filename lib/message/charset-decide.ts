import { isAscii, isUtf8 } from 'node:buffer';
import {
  decodeUtf7,
  encodingOf,
  isAsciiLabel,
  isMultiByteEncoding,
  isUtf7Label,
  lossyDecode,
  strictDecode,
} from './charset.ts';

/**
 * The charset decision for one run of bytes (a raw header field, an encoded word's bytes, a text part):
 * valid UTF-8 first, then the declared charset, then the charsets the message declares elsewhere, then
 * Windows-1252, so that a sensible decoding is never replaced by U+FFFD. Every step is one native decode
 * pass over the bytes: linear.
 */

/** What the message declares: its text charsets, the top-level or first text part's first. */
export interface CharsetContext {
  charsets: readonly string[];
  /** Told of each decoding that is not the declared charset (see {@link FallbackReport}). */
  report?: FallbackReport;
}

/** How a run of bytes was decoded. */
export interface CharsetDecision {
  text: string;
  /** The WHATWG encoding name used (`utf-7` for UTF-7). */
  used: string;
  /** Whether `used` is not what was declared (or nothing was declared and the bytes are not UTF-8). */
  fallback: boolean;
}

/**
 * Where the bytes come from. `header`: raw 8-bit header bytes, nothing declared (UTF-8 is RFC 6532's).
 * `word`: an encoded word, whose label is trusted while the bytes are valid in it. `body`: a text part,
 * where valid UTF-8 (with at least one multi-byte sequence) wins over a declared single-byte charset: the
 * usual mislabel is a UTF-8 body sent as ISO-8859-1, and Latin-1 text almost never forms valid UTF-8.
 */
export type CharsetSource = 'header' | 'word' | 'body';

const WINDOWS_1252 = 'windows-1252';

/** Decides the charset of `bytes` declared as `declared` (null: none). Never throws. */
export function decideCharset(
  bytes: Uint8Array,
  declared: string | null,
  source: CharsetSource,
  context: readonly string[],
): CharsetDecision {
  if (declared && isUtf7Label(declared)) return { text: decodeUtf7(bytes), used: 'utf-7', fallback: false };
  const encoding = declared && !isAsciiLabel(declared) ? encodingOf(declared) : null;
  const validUtf8 = isUtf8(bytes);
  const asUtf8 = (): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  if (encoding === null || encoding === 'utf-8') {
    if (validUtf8) {
      // US-ASCII or an unknown label over 8-bit bytes: UTF-8 is a fallback (nothing declared: RFC 6532)
      const fallback = declared !== null && encoding === null && !isAscii(bytes);
      return { text: asUtf8(), used: 'utf-8', fallback };
    }
    return mostlyUtf8(bytes) ?? fallbackChain(bytes, ['utf-8'], context, null);
  }
  const multiByte = isMultiByteEncoding(encoding);
  if (!multiByte && source === 'body' && validUtf8 && !isAscii(bytes)) {
    return { text: asUtf8(), used: 'utf-8', fallback: true };
  }
  const declaredText = strictDecode(bytes, encoding);
  if (declaredText !== null) return { text: declaredText, used: encoding, fallback: false };
  if (validUtf8) return { text: asUtf8(), used: 'utf-8', fallback: true };
  return fallbackChain(bytes, ['utf-8', encoding], context, multiByte ? encoding : null);
}

/**
 * Whether the decision for `bytes` declared as `declared` is plain UTF-8 (or ASCII in an ASCII-compatible
 * charset), so the bytes can be passed on as they are: the common case, checked natively without decoding.
 * `bytes` may come in chunks (as a part is decoded), checked where they lie: the same answer as for their
 * concatenation, without making it.
 */
export function passesAsUtf8(bytes: Uint8Array | readonly Uint8Array[], declared: string | null): boolean {
  const chunks = bytes instanceof Uint8Array ? [bytes] : bytes;
  if (declared && isUtf7Label(declared)) return false;
  const encoding = declared && !isAsciiLabel(declared) ? encodingOf(declared) : null;
  if (declared === null || encoding === 'utf-8') return isUtf8Chunks(chunks);
  if (encoding === null) return chunks.every((c) => isAscii(c));
  return !isMultiByteEncoding(encoding) && chunks.every((c) => isAscii(c));
}

/** Length of the UTF-8 sequence a byte starts (1 for ASCII, and for a byte that starts none). */
function sequenceLength(byte: number): number {
  return byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
}

/**
 * Whether the concatenation of `chunks` is valid UTF-8. Each chunk is checked natively up to the sequence
 * its end cuts, if any; that sequence's bytes (at most 4) are checked once its next chunk completes it.
 */
export function isUtf8Chunks(chunks: readonly Uint8Array[]): boolean {
  let pending: number[] = []; // a sequence cut by the end of the previous chunk(s)
  for (const chunk of chunks) {
    let start = 0;
    if (pending.length > 0) {
      const missing = sequenceLength(pending[0]!) - pending.length;
      const taken = Math.min(missing, chunk.length);
      for (let i = 0; i < taken; i++) pending.push(chunk[i]!);
      start = taken;
      if (taken < missing) continue;
      if (!isUtf8(Uint8Array.from(pending))) return false;
      pending = [];
    }
    let end = chunk.length;
    // A sequence starting in the last three bytes may go on in the next chunk.
    for (let back = 1; back <= 3 && end - back >= start; back++) {
      const byte = chunk[end - back]!;
      if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
      if (sequenceLength(byte) > back) end -= back;
      break;
    }
    if (!isUtf8(chunk.subarray(start, end))) return false;
    for (let i = end; i < chunk.length; i++) pending.push(chunk[i]!);
  }
  return pending.length === 0;
}

/**
 * UTF-8 with a few bad bytes (a stray Latin-1 character, a cut sequence) stays UTF-8 with those replaced:
 * decoding the whole run as Windows-1252 would garble every correct character instead.
 */
function mostlyUtf8(bytes: Uint8Array): CharsetDecision | null {
  const text = lossyDecode(bytes, 'utf-8');
  let good = 0;
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd) bad++;
    else if (c >= 0x80) good++;
  }
  if (good <= bad * 2) return null;
  return { text, used: `utf-8 (${bad} invalid byte sequence(s) replaced)`, fallback: true };
}

/**
 * The message's other charsets in order, each only when the bytes are valid in it, then `last` (the
 * declared multi-byte charset, invalid bytes replaced) or Windows-1252, which decodes any byte.
 */
function fallbackChain(
  bytes: Uint8Array,
  tried: string[],
  context: readonly string[],
  last: string | null,
): CharsetDecision {
  for (const label of context.slice(0, 8)) {
    if (isUtf7Label(label) || isAsciiLabel(label)) continue;
    const encoding = encodingOf(label);
    if (encoding === null || tried.includes(encoding)) continue;
    tried.push(encoding);
    const text = strictDecode(bytes, encoding);
    if (text !== null) return { text, used: encoding, fallback: true };
  }
  const used = last ?? WINDOWS_1252;
  return { text: lossyDecode(bytes, used), used, fallback: true };
}

/** At most this many `charset-fallback` entries; the rest are counted in one more. */
const MAX_LISTED = 3;

/** Collects the `charset-fallback` problems of one message, bounded. */
export class FallbackReport {
  private readonly listed: string[] = [];
  private extra = 0;

  add(where: string, declared: string | null, used: string): void {
    if (this.listed.length >= MAX_LISTED) {
      this.extra++;
      return;
    }
    const name = declared ? JSON.stringify(declared.slice(0, 40)) : 'none';
    this.listed.push(`charset-fallback: ${where}: declared ${name}, decoded as ${used}`);
  }

  /** The entries, then `charset-fallback: N more …` when some were left out. */
  problems(): string[] {
    if (this.extra === 0) return [...this.listed];
    return [...this.listed, `charset-fallback: ${this.extra} more field(s) or part(s) decoded by fallback`];
  }
}

/** Decides, and reports the decision to `context.report` when it is a fallback. */
export function decodeWithContext(
  bytes: Uint8Array,
  declared: string | null,
  source: CharsetSource,
  where: string,
  context: CharsetContext | undefined,
): string {
  const decision = decideCharset(bytes, declared, source, context?.charsets ?? []);
  if (decision.fallback) context?.report?.add(where, declared, decision.used);
  return decision.text;
}
