/** A structured MIME header value such as `Content-Type: multipart/mixed; boundary="b1"`. */
export interface StructuredValue {
  /** The main value, lower-cased and trimmed (`multipart/mixed`). */
  value: string;
  /** Parameters by lower-case name; RFC 2231 continuations are joined. */
  params: Map<string, string>;
}

/** Removes `(comments)` outside quoted strings, in one linear pass. */
function stripComments(input: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (quoted) {
      out += c;
      if (c === '\\' && i + 1 < input.length) out += input[++i]!;
      else if (c === '"') quoted = false;
    } else if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '(') {
      depth = 1;
    } else {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out;
}

/** Splits on `;` outside quoted strings. */
function splitParams(input: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) {
      quoted = true;
    } else if (c === 0x3b) {
      parts.push(input.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(input.slice(start));
  return parts;
}

function unquote(raw: string): string {
  const value = raw.trim();
  if (!value.startsWith('"')) return value;
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) out += value[++i]!;
    else if (c === '"') break;
    else out += c;
  }
  return out;
}

function percentDecode(value: string): string {
  return value.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * Parses a structured header value (Content-Type, Content-Disposition) into its main value and
 * parameters. Linear in the input; never throws. RFC 2231 continuations (`name*0=`, `name*1*=`) are
 * joined; extended values have their percent-escapes decoded byte-wise (the charset is not applied).
 */
export function parseStructuredValue(input: string): StructuredValue {
  const [head = '', ...rest] = splitParams(stripComments(input));
  const params = new Map<string, string>();
  const continued = new Map<string, Array<{ index: number; value: string }>>();
  for (const segment of rest) {
    const eq = segment.indexOf('=');
    if (eq < 0) continue;
    const name = segment.slice(0, eq).trim().toLowerCase();
    if (!name) continue;
    let value = unquote(segment.slice(eq + 1));
    const m = /^([^*]+)\*(?:(\d{1,3})\*?|)$/.exec(name);
    if (m) {
      const extended = name.endsWith('*');
      if (extended) {
        const tick = /^[^']*'[^']*'/.exec(value);
        if (tick && (m[2] === undefined || m[2] === '0')) value = value.slice(tick[0].length);
        value = percentDecode(value);
      }
      const base = m[1]!;
      const list = continued.get(base) ?? [];
      list.push({ index: m[2] === undefined ? 0 : Number(m[2]), value });
      continued.set(base, list);
    } else if (!params.has(name)) {
      params.set(name, value);
    }
  }
  for (const [name, list] of continued) {
    if (params.has(name) && list.length === 0) continue;
    list.sort((a, b) => a.index - b.index);
    params.set(name, list.map((p) => p.value).join(''));
  }
  return { value: head.trim().toLowerCase(), params };
}
