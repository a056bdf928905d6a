import { TextDecoder } from 'node:util';

/**
 * Charset decoding for header text, built on the WHATWG `TextDecoder` that Node ships with full ICU.
 * Pure and synchronous; unknown or refused charsets (UTF-7 among them) fall back to lossy UTF-8.
 */

/** Names MIME mail uses that the WHATWG encoding labels lack. */
const ALIASES: Readonly<Record<string, string>> = {
  cp932: 'shift_jis',
  cp936: 'gbk',
  cp949: 'euc-kr',
  cp950: 'big5',
  ks_c_5601: 'euc-kr',
  'x-sjis': 'shift_jis',
  'x-euc-jp': 'euc-jp',
  'x-gbk': 'gbk',
  'iso-8859-8-e': 'iso-8859-8',
  'iso8859-15': 'iso-8859-15',
  'win-1251': 'windows-1251',
  'win-1252': 'windows-1252',
  utf: 'utf-8',
  'utf-8-sig': 'utf-8',
  ansi: 'windows-1252',
};

const decoders = new Map<string, TextDecoder | null>();
const utf8 = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const windows1252 = new TextDecoder('windows-1252');

/** Lower-cases a charset label and drops quotes and an RFC 2231 `*language` suffix. */
export function normalizeCharset(label: string): string {
  let name = label
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, '');
  const star = name.indexOf('*');
  if (star >= 0) name = name.slice(0, star);
  return name;
}

/** The decoder for a charset label, or null when the charset is unknown (or one that is never decoded). */
export function charsetDecoder(label: string): TextDecoder | null {
  const name = normalizeCharset(label);
  const cached = decoders.get(name);
  if (cached !== undefined) return cached;
  let decoder: TextDecoder | null = null;
  try {
    decoder = new TextDecoder(ALIASES[name] ?? name);
    // The WHATWG "replacement" encoding (ISO-2022-KR, HZ) decodes everything to U+FFFD.
    if (decoder.encoding === 'replacement') decoder = null;
  } catch {
    decoder = null;
  }
  if (decoders.size < 256) decoders.set(name, decoder);
  return decoder;
}

/** Whether `label` names a charset this module can decode. */
export function isKnownCharset(label: string): boolean {
  return charsetDecoder(label) !== null;
}

/** Decodes bytes in `charset`; an unknown charset is decoded as UTF-8 (invalid bytes replaced). */
export function decodeBytes(bytes: Uint8Array, charset: string): { text: string; known: boolean } {
  const decoder = charsetDecoder(charset);
  if (decoder) return { text: decoder.decode(bytes), known: true };
  return { text: utf8.decode(bytes), known: false };
}

/**
 * Decodes raw 8-bit header bytes: UTF-8 when they are valid UTF-8 (RFC 6532), otherwise Windows-1252,
 * the usual charset of unlabelled 8-bit headers.
 */
export function decodeRawHeaderBytes(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return windows1252.decode(bytes);
  }
}
