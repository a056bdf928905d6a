/**
 * A small bounded reader of TNEF (`application/ms-tnef`, `winmail.dat`), after Microsoft's [MS-OXTNEF]:
 * the signature 0x223E9F78 and a 2-byte key, then attributes (level 1 byte, id 4, length 4, data, checksum
 * 2 = sum of the data bytes mod 65536). An attachment starts at attAttachRendData; attAttachTitle gives its
 * 8.3 name, attAttachData its bytes, attAttachment its MAPI properties (PR_ATTACH_LONG_FILENAME,
 * PR_ATTACH_MIME_TAG, PR_ATTACH_DATA_OBJ). Written here rather than taken from npm: `node-tnef` was looked
 * at and rejected (its entry point is a CLI module that creates a logger at import, pulls yargs, no types).
 * Every length is checked against the buffer; one pass, attachments counted.
 */

export const TNEF_SIGNATURE = 0x223e9f78;
/** Attachments read from one TNEF stream at most. */
export const MAX_TNEF_ATTACHMENTS = 100;

const ATT_ATTACH_DATA = 0x800f;
const ATT_ATTACH_TITLE = 0x8010;
const ATT_ATTACH_REND_DATA = 0x9002;
const ATT_ATTACHMENT = 0x9005;
const LEVEL_ATTACHMENT = 2;

const PR_ATTACH_DATA_OBJ = 0x3701;
const PR_ATTACH_LONG_FILENAME = 0x3707;
const PR_ATTACH_MIME_TAG = 0x370e;

export interface TnefAttachment {
  filename: string | null;
  /** PR_ATTACH_MIME_TAG when the properties give it. */
  contentType: string | null;
  data: Buffer | null;
}

export interface TnefResult {
  attachments: TnefAttachment[];
  problems: string[];
}

/**
 * Reads the attachments of a TNEF stream. Never throws: a bad signature, a length beyond the buffer or a
 * checksum mismatch is a `tnef-…` problem, with the attachments read until then.
 */
export function readTnef(buf: Buffer): TnefResult {
  const result: TnefResult = { attachments: [], problems: [] };
  if (buf.length < 6 || buf.readUInt32LE(0) !== TNEF_SIGNATURE) {
    result.problems.push('tnef-invalid: the TNEF signature 0x223E9F78 is missing');
    return result;
  }
  let current: TnefAttachment | null = null;
  let at = 6;
  let badChecksums = 0;
  while (at < buf.length) {
    if (buf.length - at < 11) {
      result.problems.push(`tnef-truncated: ${buf.length - at} stray byte(s) at offset ${at}`);
      break;
    }
    const level = buf[at]!;
    const id = buf.readUInt32LE(at + 1) & 0xffff;
    const length = buf.readUInt32LE(at + 5);
    const start = at + 9;
    if (length > buf.length - start - 2) {
      result.problems.push(
        `tnef-truncated: an attribute at offset ${at} claims ${length} bytes past the end`,
      );
      break;
    }
    const data = buf.subarray(start, start + length);
    if (checksum(data) !== buf.readUInt16LE(start + length)) badChecksums++;
    at = start + length + 2;
    if (level !== LEVEL_ATTACHMENT) continue;
    if (id === ATT_ATTACH_REND_DATA) {
      if (result.attachments.length >= MAX_TNEF_ATTACHMENTS) {
        result.problems.push(
          `tnef-too-many: more than ${MAX_TNEF_ATTACHMENTS} attachments; the rest are left out`,
        );
        break;
      }
      current = { filename: null, contentType: null, data: null };
      result.attachments.push(current);
    } else if (current && id === ATT_ATTACH_TITLE) {
      current.filename ??= cString(data, 'latin1');
    } else if (current && id === ATT_ATTACH_DATA) {
      current.data = data;
    } else if (current && id === ATT_ATTACHMENT) {
      applyProperties(current, data, result.problems);
    }
  }
  if (badChecksums > 0)
    result.problems.push(`tnef-checksum: ${badChecksums} attribute checksum(s) do not match`);
  return result;
}

function checksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data[i]!) & 0xffff;
  return sum;
}

/** A string up to its first NUL. */
function cString(data: Buffer, encoding: 'latin1' | 'utf16le'): string | null {
  let text = data.toString(encoding);
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  text = text.trim();
  return text === '' ? null : text;
}

/** Bytes taken by one value of a fixed-size property type; 0 for variable-size types; -1 unknown. */
function fixedSize(type: number): number {
  switch (type) {
    case 0x0002: // PT_SHORT, padded
    case 0x0003: // PT_LONG
    case 0x0004: // PT_FLOAT
    case 0x000a: // PT_ERROR
    case 0x000b: // PT_BOOLEAN, padded
      return 4;
    case 0x0005: // PT_DOUBLE
    case 0x0006: // PT_CURRENCY
    case 0x0007: // PT_APPTIME
    case 0x0014: // PT_I8
    case 0x0040: // PT_SYSTIME
      return 8;
    case 0x0048: // PT_CLSID
      return 16;
    case 0x000d: // PT_OBJECT
    case 0x001e: // PT_STRING8
    case 0x001f: // PT_UNICODE
    case 0x0102: // PT_BINARY
      return 0;
    default:
      return -1;
  }
}

const MAX_PROPERTIES = 10_000;

/** Reads an attAttachment property list, keeping the long file name, MIME tag and data object. */
function applyProperties(target: TnefAttachment, data: Buffer, problems: string[]): void {
  const r = new Reader(data);
  const count = r.u32();
  for (let p = 0; p < Math.min(count, MAX_PROPERTIES) && r.ok; p++) {
    const type = r.u16();
    const id = r.u16();
    if (id >= 0x8000) skipName(r);
    const base = type & 0x0fff;
    const size = fixedSize(base);
    if (size < 0 || !r.ok) {
      problems.push(
        `tnef-properties: an attachment property of unknown type 0x${type.toString(16)}; the rest are skipped`,
      );
      return;
    }
    const values = type & 0x1000 || size === 0 ? r.u32() : 1;
    for (let v = 0; v < values && r.ok; v++) {
      if (size > 0) {
        r.skip(size);
        continue;
      }
      const value = r.bytes(r.u32());
      r.skip((4 - (value.length % 4)) % 4);
      if (!r.ok || v > 0) continue;
      if (id === PR_ATTACH_LONG_FILENAME) {
        target.filename = cString(value, base === 0x001f ? 'utf16le' : 'latin1') ?? target.filename;
      } else if (id === PR_ATTACH_MIME_TAG) {
        target.contentType = cString(value, base === 0x001f ? 'utf16le' : 'latin1')?.toLowerCase() ?? null;
      } else if (id === PR_ATTACH_DATA_OBJ && base === 0x0102 && target.data === null) {
        target.data = value;
      }
    }
  }
  if (!r.ok) problems.push('tnef-properties: an attachment property list is truncated');
}

/** A named property's name: GUID, kind, then an id or a length-prefixed UTF-16 name (padded to 4). */
function skipName(r: Reader): void {
  r.skip(16);
  const kind = r.u32();
  if (kind === 0) r.skip(4);
  else {
    const length = r.u32();
    r.skip(length + ((4 - (length % 4)) % 4));
  }
}

/** Little-endian reads that never go past the end: `ok` turns false instead. */
class Reader {
  ok = true;
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  private take(n: number): number {
    if (!this.ok || n < 0 || n > this.buf.length - this.at) {
      this.ok = false;
      return -1;
    }
    const start = this.at;
    this.at += n;
    return start;
  }
  u16(): number {
    const i = this.take(2);
    return i < 0 ? 0 : this.buf.readUInt16LE(i);
  }
  u32(): number {
    const i = this.take(4);
    return i < 0 ? 0 : this.buf.readUInt32LE(i);
  }
  skip(n: number): void {
    this.take(n);
  }
  bytes(n: number): Buffer {
    const i = this.take(n);
    return i < 0 ? Buffer.alloc(0) : this.buf.subarray(i, i + n);
  }
}
