import type { BareCharacter } from './errors.ts';
import { looksLikeProxyHeader } from './proxy-protocol.ts';

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/**
 * What {@link CommandLineReader.read} found: a whole command line (CRLF included); `partial` when the
 * chunk ended first; `too long` for a complete line over the limit (discarded); or why the line must
 * refuse the connection: a bare CR, bare LF or NUL, or a PROXY header where the first command should be.
 */
export type CommandLine = Buffer | 'partial' | 'too long' | { refused: BareCharacter | 'proxy header' };

export type LineRefusal = Extract<CommandLine, { refused: unknown }>;

export function isRefusal(line: CommandLine): line is LineRefusal {
  return typeof line === 'object' && !Buffer.isBuffer(line);
}

/** Collects command lines, strictly CRLF-terminated, from the chunks a client sends. */
export class CommandLineReader {
  readonly #maxBytes: number;
  #parts: Buffer[] = [];
  #bytes = 0;
  #endsWithCR = false;
  #tooLong = false;
  #commands = 0;

  /** @param maxBytes longest command line, CRLF included. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Complete command lines read so far. */
  get commands(): number {
    return this.#commands;
  }

  /** Forgets the line being collected (its bytes came from a parser that is gone). */
  reset(): void {
    this.#parts = [];
    this.#bytes = 0;
    this.#endsWithCR = false;
    this.#tooLong = false;
  }

  /** Reads from `from`; `end` is where the next read starts. */
  read(chunk: Buffer, from: number): { line: CommandLine; end: number } {
    if (this.#commands === 0 && this.#bytes === 0 && looksLikeProxyHeader(chunk.subarray(from, from + 12))) {
      return { line: { refused: 'proxy header' }, end: from };
    }
    const lf = chunk.indexOf(LF, from);
    const stop = lf < 0 ? chunk.length : lf;
    const crBeforeLf = stop > from ? chunk[stop - 1] === CR : this.#endsWithCR;
    const found = this.#bareCharacter(chunk, from, stop) ?? (lf >= 0 && !crBeforeLf ? 'bare LF' : null);
    if (found) return { line: { refused: found }, end: from };

    const end = lf < 0 ? chunk.length : lf + 1;
    this.#bytes += end - from;
    if (this.#bytes > this.#maxBytes) {
      this.#tooLong = true;
      this.#parts = [];
    } else {
      this.#parts.push(chunk.subarray(from, end));
    }
    if (lf < 0) {
      this.#endsWithCR = crBeforeLf;
      return { line: 'partial', end };
    }
    const tooLong = this.#tooLong;
    const line = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.reset();
    if (this.#commands === 0 && looksLikeProxyHeader(line)) return { line: { refused: 'proxy header' }, end };
    this.#commands++;
    return { line: tooLong ? 'too long' : line, end };
  }

  /** A NUL, or a CR not right before the line's LF, in `chunk[from, stop)`. */
  #bareCharacter(chunk: Buffer, from: number, stop: number): BareCharacter | null {
    if (this.#endsWithCR && stop > from) return 'bare CR';
    for (let i = from; i < stop; i++) {
      const b = chunk[i];
      if (b === NUL) return 'NUL';
      if (b === CR && i < stop - 1) return 'bare CR';
    }
    return null;
  }
}
