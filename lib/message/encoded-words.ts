import { decodeBytes, normalizeCharset } from './charset.ts';

/** Result of decoding the RFC 2047 encoded words of a header value. */
export interface DecodedWords {
  text: string;
  /** Charsets named by encoded words that could not be decoded (decoded as UTF-8 instead). */
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
 * Decodes UTF-7 (RFC 2152). Only used for encoded words, where it is display text; bodies declared as
 * UTF-7 are never decoded from it (it can smuggle markup past filters).
 */
export function decodeUtf7(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  return text.replace(/\+([A-Za-z0-9+/]*)-?/g, (whole, b64: string) => {
    if (b64 === '') return whole === '+-' ? '+' : whole;
    const raw = Buffer.from(b64, 'base64');
    const even = raw.subarray(0, raw.length - (raw.length % 2));
    return even.swap16().toString('utf16le');
  });
}

/**
 * Decodes the RFC 2047 encoded words in an (unfolded) header value. Adjacent encoded words separated only
 * by whitespace are joined without the whitespace, and the bytes of adjacent words in the same charset
 * are decoded together so a multi-byte character split across two words survives. Never throws.
 */
export function decodeEncodedWords(value: string): DecodedWords {
  if (value.indexOf('=?') < 0) return { text: value, unknownCharsets: [] };
  const unknown = new Set<string>();
  const state: { out: string; charset: string | null; chunks: Buffer[] } = {
    out: '',
    charset: null,
    chunks: [],
  };
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

function flushRun(
  state: { out: string; charset: string | null; chunks: Buffer[] },
  unknown: Set<string>,
): void {
  if (state.charset === null) return;
  const bytes = Buffer.concat(state.chunks);
  const decoded = /^(unicode-1-1-)?utf-?7$/.test(state.charset)
    ? { text: decodeUtf7(bytes), known: true }
    : decodeBytes(bytes, state.charset);
  if (!decoded.known) unknown.add(state.charset);
  state.out += decoded.text;
  state.charset = null;
  state.chunks = [];
}
