import type { BareCharacter } from './errors.ts';

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const DOT = 0x2e;

/**
 * Follows one message's DATA as it arrives, chunk by chunk, for the one end of data there is,
 * `<CR><LF>.<CR><LF>` (or `.<CR><LF>` at the very start), found exactly where smtp-server's parser finds
 * it, and for the first bare CR, bare LF or NUL (RFC 5321 §2.3.8 allows CR and LF only together).
 */
export class DataScanner {
  #lineStart = true;
  /** 1 after a dot at the start of a line, 2 after `.<CR>` there. */
  #dot = 0;
  #pendingCR = false;
  #bare: BareCharacter | null = null;

  /** The first bare CR, bare LF or NUL of the message so far. */
  get bare(): BareCharacter | null {
    return this.#bare;
  }

  /** A new message starts (after our `354`). */
  begin(): void {
    this.#lineStart = true;
    this.#dot = 0;
    this.#pendingCR = false;
    this.#bare = null;
  }

  /** Scans from `from`; returns the index just after the end of data, or -1 when the chunk ends first. */
  scan(chunk: Buffer, from: number): number {
    let lineStart = this.#lineStart;
    let dot = this.#dot;
    let cr = this.#pendingCR;
    let bare = this.#bare;
    let end = -1;
    const length = chunk.length;
    // Positions of the next CR, LF and NUL; ordinary bytes in between are skipped with indexOf.
    let nextCR = -1;
    let nextLF = -1;
    let nextNUL = -1;
    const find = (byte: number, at: number) => {
      const found = chunk.indexOf(byte, at);
      return found < 0 ? length : found;
    };
    for (let i = from; i < length; i++) {
      if (!cr && !lineStart && dot === 0) {
        if (nextCR < i) nextCR = find(CR, i);
        if (nextLF < i) nextLF = find(LF, i);
        if (nextNUL < i) nextNUL = find(NUL, i);
        i = Math.min(nextCR, nextLF, nextNUL);
        if (i >= length) break;
      }
      const b = chunk[i];
      if (cr) {
        cr = false;
        if (b === LF) {
          if (dot === 2) {
            end = i + 1;
            break;
          }
          lineStart = true;
          dot = 0;
          continue;
        }
        bare ??= 'bare CR';
        dot = 0;
        lineStart = false;
      }
      if (b === CR) {
        cr = true;
        dot = dot === 1 ? 2 : 0;
        lineStart = false;
      } else if (b === LF) {
        bare ??= 'bare LF';
        dot = 0;
        lineStart = false;
      } else if (b === DOT && lineStart) {
        dot = 1;
        lineStart = false;
      } else {
        if (b === NUL) bare ??= 'NUL';
        dot = 0;
        lineStart = false;
      }
    }
    this.#lineStart = lineStart;
    this.#dot = dot;
    this.#pendingCR = cr;
    this.#bare = bare;
    return end;
  }
}
