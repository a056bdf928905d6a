/**
 * BinHex 4.0 (`application/mac-binhex40`, `.hqx`): the `(This file must be converted with BinHex 4.0)` line,
 * then `:`-delimited 6-bit text, run-length encoded with 0x90, holding a header (name, type, creator, fork
 * lengths, CRC), the data fork and the resource fork, each followed by its CRC-16 (XMODEM). Only the data
 * fork is returned (what a non-Mac system uses). Linear, with the decoded size capped.
 */

const ALPHABET = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

const MARKER = '(This file must be converted with BinHex';

export type BinHexResult =
  | { filename: string; data: Buffer; problems: string[] }
  | { filename: null; data: null; problems: string[] };

function failed(problem: string): BinHexResult {
  return { filename: null, data: null, problems: [`binhex-invalid: ${problem}`] };
}

/** CRC-16/XMODEM (polynomial 0x1021, initial 0) over `bytes`. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The 6-bit text between the first `:` after the marker and the next `:`, as bytes; or why not. */
function sixBitDecode(text: string): Buffer | string {
  const marker = text.indexOf(MARKER);
  if (marker < 0) return 'no "(This file must be converted with BinHex" line';
  const open = text.indexOf(':', marker + MARKER.length);
  if (open < 0) return 'no ":" starts the data';
  const out = Buffer.alloc(Math.floor(((text.length - open) * 3) / 4) + 3);
  let size = 0;
  let acc = 0;
  let bits = 0;
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) return out.subarray(0, size); // ':'
    if (c === 0x0d || c === 0x0a || c === 0x20 || c === 0x09) continue;
    const v = c < 128 ? VALUE[c]! : -1;
    if (v < 0) return `a character outside the BinHex alphabet (${JSON.stringify(text[i])})`;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[size++] = (acc >> bits) & 0xff;
    }
  }
  return 'no ":" ends the data (truncated?)';
}

/** Expands the 0x90 run-length encoding, stopping at `max` bytes (null when more were asked for). */
function unRle(input: Buffer, max: number): Buffer | null {
  const chunks: Buffer[] = [];
  let out = Buffer.alloc(Math.min(max, Math.max(64, input.length * 2)));
  let size = 0;
  let last = 0;
  const put = (b: number): boolean => {
    if (size === out.length) {
      if (chunks.length * out.length + size >= max) return false;
      chunks.push(out);
      out = Buffer.alloc(out.length);
      size = 0;
    }
    out[size++] = b;
    return true;
  };
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!;
    if (b !== 0x90) {
      if (!put(b)) return null;
      last = b;
      continue;
    }
    const count = i + 1 < input.length ? input[++i]! : 0;
    if (count === 0) {
      if (!put(0x90)) return null;
      last = 0x90;
      continue;
    }
    for (let k = 1; k < count; k++) if (!put(last)) return null;
  }
  chunks.push(out.subarray(0, size));
  return Buffer.concat(chunks);
}

/**
 * Decodes a BinHex 4.0 text: the file name from its header and the data fork, each CRC checked (a mismatch
 * is a `binhex-crc` problem; the bytes are still returned). `maxBytes` caps the expanded stream.
 */
export function decodeBinHex(text: string, maxBytes: number): BinHexResult {
  const raw = sixBitDecode(text);
  if (typeof raw === 'string') return failed(raw);
  const bytes = unRle(raw, maxBytes);
  if (!bytes) return failed(`the expanded data is over ${maxBytes} bytes`);
  const nameLength = bytes[0] ?? 0;
  const headerEnd = 1 + nameLength + 1 + 4 + 4 + 2 + 4 + 4;
  if (bytes.length < headerEnd + 2) return failed('the header is truncated');
  const filename = bytes.subarray(1, 1 + nameLength).toString('latin1');
  const dataLength = bytes.readUInt32BE(headerEnd - 8);
  const rsrcLength = bytes.readUInt32BE(headerEnd - 4);
  const problems: string[] = [];
  if (crc16(bytes, 0, headerEnd) !== bytes.readUInt16BE(headerEnd)) {
    problems.push(`binhex-crc: the header CRC of ${JSON.stringify(filename)} does not match`);
  }
  const dataStart = headerEnd + 2;
  if (dataLength > bytes.length - dataStart - 2) {
    return failed(`the data fork of ${JSON.stringify(filename)} is truncated`);
  }
  const data = bytes.subarray(dataStart, dataStart + dataLength);
  if (crc16(data) !== bytes.readUInt16BE(dataStart + dataLength)) {
    problems.push(`binhex-crc: the data fork CRC of ${JSON.stringify(filename)} does not match`);
  }
  if (rsrcLength > bytes.length - (dataStart + dataLength + 2)) {
    problems.push(`binhex-truncated: the resource fork of ${JSON.stringify(filename)} is truncated`);
  }
  return { filename, data: Buffer.from(data), problems };
}
