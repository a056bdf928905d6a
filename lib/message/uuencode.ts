/**
 * uuencoded blocks (`begin <mode> <name>` … `end`, and `begin-base64 <mode> <name>` … `====`) inside text,
 * as old mail and Usenet clients put files into a plain text body. Line by line, linear in the text.
 */

/** One decoded block and the lines it spanned in the text it was found in. */
export interface UuBlock {
  /** '' when the `begin` line gave none. */
  filename: string;
  data: Buffer;
  /** Offsets in the text: the `begin` line's start and the end of the `end` line (its line break included). */
  start: number;
  end: number;
}

export interface UuScan {
  blocks: UuBlock[];
  /** `uuencode-…: detail` for blocks that were started but could not be read (left in the text). */
  problems: string[];
}

/** Blocks read from one text at most. */
export const MAX_UU_BLOCKS = 100;

interface Line {
  text: string;
  start: number;
  /** Offset after the line break. */
  next: number;
}

function* lines(text: string, from: number): Generator<Line> {
  let start = from;
  while (start < text.length) {
    const lf = text.indexOf('\n', start);
    const stop = lf < 0 ? text.length : lf;
    const body = text.slice(start, stop > start && text[stop - 1] === '\r' ? stop - 1 : stop);
    yield { text: body, start, next: lf < 0 ? text.length : lf + 1 };
    start = lf < 0 ? text.length : lf + 1;
  }
}

/** `begin 644 name` / `begin-base64 644 name`: the kind and the file name, or null. */
function beginLine(line: string): { base64: boolean; filename: string } | null {
  const base64 = line.startsWith('begin-base64 ');
  if (!base64 && !line.startsWith('begin ')) return null;
  const rest = line.slice(base64 ? 13 : 6);
  const spaceAt = rest.indexOf(' ');
  const space = spaceAt < 0 ? rest.length : spaceAt; // `begin 644` alone: a block without a name
  if (space < 1 || space > 4) return null;
  for (let i = 0; i < space; i++) {
    const c = rest.charCodeAt(i);
    if (c < 0x30 || c > 0x37) return null;
  }
  const filename = rest.slice(space + 1).trim();
  return filename.length <= 255 ? { base64, filename } : null;
}

/**
 * Decodes one uuencoded line into `out` at `at`; returns the bytes written, or -1 when the line is not
 * uuencode. Tolerant: missing trailing characters (spaces stripped in transit, however many) count as zero, characters after the
 * ones the length byte asks for (a checksum) are ignored, space and backquote both mean zero.
 */
export function decodeUuLine(line: string, out: Buffer, at: number): number {
  if (line.length === 0) return 0;
  const count = (line.charCodeAt(0) - 0x20) & 0x3f;
  if (line.charCodeAt(0) < 0x20 || line.charCodeAt(0) > 0x60) return -1;
  const chars = Math.ceil(count / 3) * 4;
  let written = 0;
  for (let g = 0; g < chars; g += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const i = 1 + g + k;
      const c = i < line.length ? line.charCodeAt(i) : 0x20;
      if (c < 0x20 || c > 0x60) return -1;
      v = (v << 6) | ((c - 0x20) & 0x3f);
    }
    for (let b = 2; b >= 0 && written < count; b--) {
      if (at + written >= out.length) return -1;
      out[at + written++] = (v >> (b * 8)) & 0xff;
    }
  }
  return written;
}

/**
 * Reads one block from the line after `begin`: its bytes, or why it is not a block (no end line, a bad
 * line) and where scanning goes on: at the bad line, so that every line is read at most twice.
 */
function readBlock(
  iter: Generator<Line>,
  base64: boolean,
): { data: Buffer; end: number } | { problem: string; resume: number } {
  const line64 = Buffer.alloc(64);
  const chunks: Buffer[] = [];
  const b64: string[] = [];
  for (const line of iter) {
    const text = line.text.trimEnd();
    if (base64) {
      if (text === '====') return { data: Buffer.from(b64.join(''), 'base64'), end: line.next };
      if (!/^[A-Za-z0-9+/=]*$/.test(text)) return { problem: 'a line is not base64', resume: line.start };
      b64.push(text);
      continue;
    }
    if (text === 'end') return { data: Buffer.concat(chunks), end: line.next };
    const n = decodeUuLine(text, line64, 0);
    if (n < 0) {
      return { problem: `a line is not uuencoded: ${JSON.stringify(text.slice(0, 40))}`, resume: line.start };
    }
    if (n > 0) chunks.push(Buffer.from(line64.subarray(0, n)));
  }
  return { problem: 'the block has no end line (truncated?)', resume: Number.POSITIVE_INFINITY };
}

/** Finds and decodes the uuencoded blocks of `text` (at most `maxBlocks`). */
export function scanUuBlocks(text: string, maxBlocks = MAX_UU_BLOCKS): UuScan {
  const scan: UuScan = { blocks: [], problems: [] };
  if (!text.includes('begin')) return scan;
  let from = 0;
  let attempts = 0;
  while (from < text.length) {
    const iter = lines(text, from);
    let found: { line: Line; base64: boolean; filename: string } | null = null;
    for (const line of iter) {
      const begin = line.text.startsWith('begin') ? beginLine(line.text.trimEnd()) : null;
      if (begin) {
        found = { line, ...begin };
        break;
      }
    }
    if (!found) break;
    if (++attempts > maxBlocks) {
      scan.problems.push(
        `uuencode-too-many: more than ${maxBlocks} uuencoded blocks (or attempts); the rest stay in the text`,
      );
      break;
    }
    const read = readBlock(lines(text, found.line.next), found.base64);
    if ('problem' in read) {
      scan.problems.push(`uuencode-invalid: block ${JSON.stringify(found.filename)}: ${read.problem}`);
      // the lines read were all uuencode (so no `begin` among them): go on from the one that was not
      from = read.resume;
      continue;
    }
    scan.blocks.push({ filename: found.filename, data: read.data, start: found.line.start, end: read.end });
    from = read.end;
  }
  return scan;
}

/** `text` without the spans of `blocks` (in order, not overlapping). */
export function withoutBlocks(text: string, blocks: readonly UuBlock[]): string {
  const kept: string[] = [];
  let at = 0;
  for (const block of blocks) {
    kept.push(text.slice(at, block.start));
    at = block.end;
  }
  kept.push(text.slice(at));
  return kept.join('');
}
