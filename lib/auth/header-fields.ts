/** One field of the top-level header block, as byte offsets into the raw message. */
export interface HeaderField {
  /** Lower-case name (without white space before the colon). */
  name: string;
  /** First byte of the field. */
  start: number;
  /** Just after the colon. */
  valueStart: number;
  /** Just after the field's last line end (continuation lines included). */
  end: number;
}

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * The fields of the top-level header block: up to the first empty line (CRLF or bare LF), or the whole
 * message when there is none. Lines that are neither a field nor a continuation are skipped. Linear in
 * the header size; never throws.
 */
export function* headerFields(raw: Buffer): Generator<HeaderField> {
  let pos = 0;
  let current: HeaderField | null = null;
  while (pos < raw.length) {
    const nl = raw.indexOf(0x0a, pos);
    const lineEnd = nl < 0 ? raw.length : nl + 1;
    const first = raw[pos]!;
    if (first === 0x0a || (first === 0x0d && raw[pos + 1] === 0x0a)) break;
    if ((first === 0x20 || first === 0x09) && current) {
      current.end = lineEnd;
    } else {
      if (current) yield current;
      current = null;
      const colon = raw.subarray(pos, lineEnd).indexOf(0x3a);
      if (colon > 0) {
        const name = raw.toString('latin1', pos, pos + colon).trimEnd();
        if (FIELD_NAME.test(name)) {
          current = { name: name.toLowerCase(), start: pos, valueStart: pos + colon + 1, end: lineEnd };
        }
      }
    }
    pos = lineEnd;
  }
  if (current) yield current;
}
