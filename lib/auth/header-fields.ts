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
 * message when there is none. Lines that are neither a field nor a continuation are skipped. With `only`
 * (a lower-case name), just the fields of that name: the others are passed over without decoding their
 * names, which keeps a hostile block of millions of short fields cheap. Linear in the header size (one
 * pass, no search past the current line); never throws.
 */
export function* headerFields(raw: Buffer, only?: string): Generator<HeaderField> {
  let pos = 0;
  let current: HeaderField | null = null;
  while (pos < raw.length) {
    const first = raw[pos]!;
    if (first === 0x0a || (first === 0x0d && raw[pos + 1] === 0x0a)) break;
    let colon = -1;
    let end = pos;
    for (; end < raw.length && raw[end] !== 0x0a; end++) if (colon < 0 && raw[end] === 0x3a) colon = end;
    const lineEnd = Math.min(end + 1, raw.length);
    if ((first === 0x20 || first === 0x09) && current) {
      current.end = lineEnd;
    } else {
      if (current) yield current;
      current = colon > pos && mayBe(raw, pos, colon, only) ? field(raw, pos, colon, lineEnd) : null;
      if (current && only !== undefined && current.name !== only) current = null;
    }
    pos = lineEnd;
  }
  if (current) yield current;
}

/** Whether the name before `colon` can be `only`: long enough, same first letter (case-insensitive). */
function mayBe(raw: Buffer, start: number, colon: number, only: string | undefined): boolean {
  return only === undefined || (colon - start >= only.length && (raw[start]! | 0x20) === only.charCodeAt(0));
}

function field(raw: Buffer, start: number, colon: number, end: number): HeaderField | null {
  const name = raw.toString('latin1', start, colon).trimEnd();
  return FIELD_NAME.test(name) ? { name: name.toLowerCase(), start, valueStart: colon + 1, end } : null;
}
