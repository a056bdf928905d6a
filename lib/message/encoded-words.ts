import { isKnownCharset, normalizeCharset } from './charset.ts';
import { type CharsetContext, decodeWithContext } from './charset-decide.ts';

export { decodeUtf7 } from './charset.ts';

/** Result of decoding the RFC 2047 encoded words of a header value. */
export interface DecodedWords {
  text: string;
  /** Charsets named by encoded words that are unknown (their bytes went through the fallback chain). */
  unknownCharsets: string[];
}

// charset ? encoding ? payload. `[^?]` cannot run past the next `?`, so matching stays linear.
const ENCODED_WORD = /=\?([^?\s]{1,64})\?([bBqQ])\?([^?]*)\?=/g;

function qBytes(payload: string, charset: string): Buffer {
  const utf8 = charset === 'utf-8' || charset === 'utf8';
  const out: number[] = [];
  for (let i = 0; i < payload.length; i++) {
    const c = payload.charCodeAt(i);
    if (c === 0x5f) {
      out.push(0x20);
    } else if (c === 0x3d && /^[0-9a-fA-F]{2}$/.test(payload.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(payload.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80 || (c < 0x100 && !utf8)) {
      // raw 8-bit inside a word: give the byte back in the word's own charset
      out.push(c);
    } else {
      for (const b of Buffer.from(payload[i]!, 'utf8')) out.push(b);
    }
  }
  return Buffer.from(out);
}

function wordBytes(encoding: string, payload: string, charset: string): Buffer {
  return encoding === 'b' || encoding === 'B' ? Buffer.from(payload, 'base64') : qBytes(payload, charset);
}

/**
 * Decodes the RFC 2047 encoded words in an (unfolded) header value. Adjacent encoded words separated only
 * by whitespace are joined without the whitespace, and the bytes of adjacent words in the same charset
 * are decoded together so a multi-byte character split across two words survives. Each run's charset
 * is decided by charset-decide.ts (the label while the bytes are valid in it, else UTF-8, else the
 * message's `context` charsets; fallbacks reported as `where`). Never throws.
 */
export function decodeEncodedWords(value: string, context?: CharsetContext, where = 'header'): DecodedWords {
  return decodeWords(value, context, where, false);
}

/**
 * Rewrites each run of encoded words as one `=?utf-8?B?…?=` word holding its decided text, for a parser that
 * decodes words itself (mailparser's address parser: UTF-7 and the fallbacks stay ours, while the address
 * structure, where an encoded word is only ever a display name, stays its own).
 */
export function reencodeWordsAsUtf8(value: string, context?: CharsetContext): string {
  return decodeWords(value, context, 'header', true).text;
}

function decodeWords(
  value: string,
  context: CharsetContext | undefined,
  where: string,
  reencode: boolean,
): DecodedWords {
  if (value.indexOf('=?') < 0) return { text: value, unknownCharsets: [] };
  const unknown = new Set<string>();
  const state: RunState = { out: '', charset: null, chunks: [], context, where, reencode };
  let last = 0;
  for (const match of value.matchAll(ENCODED_WORD)) {
    const start = match.index;
    const gap = value.slice(last, start);
    const charset = normalizeCharset(match[1]!);
    if (state.charset !== null && /^[ \t\r\n]*$/.test(gap)) {
      // whitespace between two encoded words is dropped (RFC 2047 section 6.2)
      if (state.charset !== charset) flushRun(state, unknown);
    } else {
      flushRun(state, unknown);
      state.out += gap;
    }
    state.charset = charset;
    state.chunks.push(wordBytes(match[2]!, match[3]!, charset));
    last = start + match[0].length;
  }
  flushRun(state, unknown);
  state.out += value.slice(last);
  return { text: state.out, unknownCharsets: [...unknown] };
}

interface RunState {
  out: string;
  charset: string | null;
  chunks: Buffer[];
  context: CharsetContext | undefined;
  where: string;
  reencode: boolean;
}

function flushRun(state: RunState, unknown: Set<string>): void {
  if (state.charset === null) return;
  const bytes = Buffer.concat(state.chunks);
  if (!isKnownCharset(state.charset)) unknown.add(state.charset);
  const text = decodeWithContext(bytes, state.charset, 'word', state.where, state.context);
  if (!state.reencode) state.out += text;
  else if (text !== '') state.out += `=?utf-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
  state.charset = null;
  state.chunks = [];
}
