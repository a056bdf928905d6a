import { TextDecoder } from 'node:util';

/**
 * Charset decoding for header text, built on the WHATWG `TextDecoder` that Node ships with full ICU.
 * Pure and synchronous. UTF-7 has its own decoder here ({@link decodeUtf7}); which charset a run of
 * bytes is decoded in is decided in charset-decide.ts.
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
const strictDecoders = new Map<string, TextDecoder>();
const utf8 = new TextDecoder('utf-8');

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

/** Encodings (WHATWG names) where one character may take several bytes. */
const MULTI_BYTE = new Set([
  'utf-8',
  'utf-16le',
  'utf-16be',
  'gbk',
  'gb18030',
  'big5',
  'euc-jp',
  'iso-2022-jp',
  'shift_jis',
  'euc-kr',
]);

/** Labels meaning "7-bit only": 8-bit bytes under them were never in the declared charset. */
const ASCII_LABELS = new Set(['us-ascii', 'ascii', 'ansi_x3.4-1968', 'iso646-us', 'us', '7bit', 'usascii']);

/** Whether the label names US-ASCII (WHATWG would read it as Windows-1252). */
export function isAsciiLabel(label: string): boolean {
  return ASCII_LABELS.has(normalizeCharset(label));
}

/** Whether the label names UTF-7 (`utf-7`, `utf7`, `unicode-1-1-utf-7`, `csunicode11utf7`). */
export function isUtf7Label(label: string): boolean {
  const name = normalizeCharset(label).replace(/[^a-z0-9]/g, '');
  return name === 'utf7' || name === 'unicode11utf7' || name === 'csunicode11utf7';
}

/** The WHATWG encoding name a label decodes as, or null when unknown. */
export function encodingOf(label: string): string | null {
  return charsetDecoder(label)?.encoding ?? null;
}

/** Whether a known encoding is multi-byte (UTF-8, UTF-16, the CJK charsets). */
export function isMultiByteEncoding(encoding: string): boolean {
  return MULTI_BYTE.has(encoding);
}

/** Windows-1252's 0x80–0x9F (Node 20's TextDecoder reads them as Latin-1 C1 controls instead). */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** Every byte's UTF-16 code unit in Windows-1252: Latin-1 but for 0x80–0x9F. */
const CP1252_UNITS = Uint16Array.from({ length: 256 }, (_, b) =>
  b >= 0x80 && b < 0xa0 ? CP1252_HIGH.charCodeAt(b - 0x80) : b,
);

/** Decodes Windows-1252 (every byte decodes; the five unassigned ones as C1 controls, as WHATWG does). */
export function decodeWindows1252(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length && (bytes[i]! < 0x80 || bytes[i]! >= 0xa0)) i++;
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (i === bytes.length) return latin1.toString('latin1');
  // one table lookup per byte into UTF-16 code units, decoded natively
  const units = new Uint16Array(bytes.length);
  for (let j = 0; j < bytes.length; j++) units[j] = CP1252_UNITS[bytes[j]!]!;
  return Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le');
}

/** Decodes `bytes` in `encoding` (a WHATWG name), or null when they are not valid in it. */
export function strictDecode(bytes: Uint8Array, encoding: string): string | null {
  if (encoding === 'windows-1252') return decodeWindows1252(bytes);
  let decoder = strictDecoders.get(encoding);
  if (!decoder) {
    try {
      decoder = new TextDecoder(encoding, { fatal: true });
    } catch {
      return null;
    }
    strictDecoders.set(encoding, decoder);
  }
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** Decodes `bytes` in `encoding` (a WHATWG name), invalid bytes replaced by U+FFFD. */
export function lossyDecode(bytes: Uint8Array, encoding: string): string {
  if (encoding === 'windows-1252') return decodeWindows1252(bytes);
  return (charsetDecoder(encoding) ?? utf8).decode(bytes);
}

/**
 * Decodes UTF-7 (RFC 2152): `+` starts a modified-base64 run of UTF-16 code units, ended by `-` (absorbed)
 * or any other character; `+-` is a plus sign. One regex pass without nested quantifiers: linear.
 */
export function decodeUtf7(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  return text.replace(/\+([A-Za-z0-9+/]*)-?/g, (whole, b64: string) => {
    if (b64 === '') return whole === '+-' ? '+' : whole;
    const raw = Buffer.from(b64, 'base64');
    const even = raw.subarray(0, raw.length - (raw.length % 2));
    return Buffer.from(even).swap16().toString('utf16le');
  });
}

/** Whether `label` names a charset this module can decode. */
export function isKnownCharset(label: string): boolean {
  return charsetDecoder(label) !== null || isUtf7Label(label);
}
