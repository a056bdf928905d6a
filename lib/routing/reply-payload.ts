/** What a signed reply address can carry. */
export type ReplyPayload = Record<string, string | number>;

/**
 * Compact binary encoding of a reply payload (it has to fit in a 64-character local part).
 *
 * Each entry, in `Object.entries` order:
 * - one head byte: `keyLength << 2 | type`, key length in UTF-8 bytes (0–63);
 * - the key's UTF-8 bytes;
 * - the value: type 0 string = varint byte length + UTF-8 bytes; type 1 safe integer ≥ 0 = varint;
 *   type 2 safe integer < 0 = varint of its magnitude; type 3 other finite number = varint length + its
 *   `String()` form.
 *
 * Varints are unsigned LEB128 (7 bits per byte, least significant first). Types round-trip exactly:
 * `{ t: 'ticket', id: 42 }` takes 13 bytes.
 */
const STRING = 0;
const UINT = 1;
const NEGINT = 2;
const DECIMAL = 3;

function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function pushBytes(out: number[], bytes: Uint8Array): void {
  for (const b of bytes) out.push(b);
}

/**
 * Encodes a payload. Throws a TypeError or RangeError naming the offending key for values that are not
 * strings or finite numbers, or keys longer than 63 bytes.
 */
export function encodeReplyPayload(payload: ReplyPayload): Uint8Array {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new TypeError('reply payload must be an object of string or number values');
  }
  const enc = new TextEncoder();
  const out: number[] = [];
  for (const [key, value] of Object.entries(payload)) {
    const k = enc.encode(key);
    if (k.length > 63)
      throw new RangeError(`reply payload key ${JSON.stringify(key)} is longer than 63 bytes`);
    if (typeof value === 'string') {
      const v = enc.encode(value);
      out.push((k.length << 2) | STRING);
      pushBytes(out, k);
      pushVarint(out, v.length);
      pushBytes(out, v);
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      if (Number.isSafeInteger(value)) {
        out.push((k.length << 2) | (value < 0 ? NEGINT : UINT));
        pushBytes(out, k);
        pushVarint(out, Math.abs(value));
      } else {
        const v = enc.encode(String(value));
        out.push((k.length << 2) | DECIMAL);
        pushBytes(out, k);
        pushVarint(out, v.length);
        pushBytes(out, v);
      }
    } else {
      throw new TypeError(
        `reply payload value for ${JSON.stringify(key)} must be a string or a finite number`,
      );
    }
  }
  return Uint8Array.from(out);
}

/** Decodes {@link encodeReplyPayload}'s output; null for anything malformed (strict: no trailing bytes). */
export function decodeReplyPayload(bytes: Uint8Array): ReplyPayload | null {
  const dec = new TextDecoder('utf-8', { fatal: true });
  const entries = new Map<string, string | number>();
  let i = 0;
  const varint = (): number | null => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (i >= bytes.length || scale > 2 ** 49) return null;
      const b = bytes[i++]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return Number.isSafeInteger(value) ? value : null;
      scale *= 0x80;
    }
  };
  const take = (n: number): Uint8Array | null => {
    if (i + n > bytes.length) return null;
    const slice = bytes.subarray(i, i + n);
    i += n;
    return slice;
  };
  try {
    while (i < bytes.length) {
      const head = bytes[i++]!;
      const type = head & 3;
      const keyBytes = take(head >> 2);
      if (!keyBytes) return null;
      const key = dec.decode(keyBytes);
      if (entries.has(key)) return null;
      let value: string | number;
      if (type === UINT || type === NEGINT) {
        const n = varint();
        if (n === null) return null;
        value = type === NEGINT ? -n : n;
      } else {
        const len = varint();
        const v = len === null ? null : take(len);
        if (!v) return null;
        value = dec.decode(v);
        if (type === DECIMAL) {
          value = Number(value);
          if (!Number.isFinite(value)) return null;
        }
      }
      entries.set(key, value);
    }
  } catch {
    return null; // invalid UTF-8
  }
  return Object.fromEntries(entries);
}
