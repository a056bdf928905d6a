import type { Logger } from '../actions/types.ts';
import type { SmtpConnection } from './connection-registry.ts';
import { type BareCharacter, BareLineEndingError, PipeliningError, type SmtpReplyError } from './errors.ts';
import { looksLikeProxyHeader } from './proxy-protocol.ts';

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const DOT = 0x2e;
/** The only bytes that may follow the end of DATA before our reply (RFC 2920 §4 pipelines QUIT there). */
const QUIT = 'QUIT\r\n';
/** How much of what follows the end of DATA is kept to tell a pipelined QUIT from anything else. */
const KEEP_AFTER_DATA = QUIT.length + 1;

/** What the server waits for from the client; each state has its own timeout. */
export type WaitState = 'greeting' | 'idle' | 'mail' | 'rcpt' | 'dataInitiation' | 'dataBlock';

export interface InputGuardOptions {
  /** Longest command line, CRLF included. */
  maxCommandLineBytes: number;
  /** Bad commands (replies 500–504, 555) before `421 4.7.0`. */
  maxBadCommands: number;
  /** Timeout per wait state, in ms. */
  timeouts: Record<WaitState, number>;
  logger: Logger;
}

const WAITING_FOR: Record<WaitState, string> = {
  greeting: 'the first command',
  idle: 'a command',
  mail: 'a command after MAIL',
  rcpt: 'a command after RCPT',
  dataInitiation: 'the message after 354',
  dataBlock: 'the rest of the message',
};

type Parser = Exclude<SmtpConnection['_parser'], false>;
type WriteCallback = (err?: Error | null) => void;

/** The input of one parser (a connection gets a new one with STARTTLS). */
interface Feed {
  parser: Parser;
  /** smtp-server's own `_write` of the parser. */
  write: Parser['_write'];
  /** The parser is working on bytes we handed it (its write callback has not run yet). */
  outstanding: boolean;
  /** Chunks that arrived from the socket and wait in the parser's buffer, oldest first. */
  queued: Buffer[];
  /** The chunk being worked through, where we are in it, and the parser's callback for it. */
  chunk: Buffer | null;
  pos: number;
  next: WriteCallback | null;
}

/**
 * Sits between the socket and smtp-server's parser of one connection and enforces what smtp-server leaves
 * lenient (it splits commands on a bare LF and stores bare CR, LF and NUL in messages):
 *
 * - **Commands** reach the parser one CRLF-terminated line at a time. A bare LF, bare CR or NUL in a
 *   command line gets `421 4.5.2` and the connection is closed: client and server no longer agree on
 *   where a line ends, so nothing after it can be trusted. A line over `maxCommandLineBytes` is
 *   discarded and answered `500 5.5.2`.
 * - **DATA** is scanned for the one end of data there is, `<CR><LF>.<CR><LF>`, exactly where the parser
 *   finds it, and for bare LF, bare CR and NUL. The message is still read to its real end (so the
 *   session stays in step), but {@link error} then refuses it: `550 5.5.2`, nothing stored.
 * - **Pipelining** (RFC 2920 §3.1): message bytes in the same packet as `DATA` (before our `354`), or
 *   anything but `QUIT` after the end of DATA before our reply, refuse the message (`554 5.5.0`); what
 *   was pipelined after the end of DATA is never run: the connection gets `421 4.5.0` and is closed.
 * - **Bad commands** past `maxBadCommands` get `421 4.7.0` (replacing smtp-server's fixed limit of 10).
 * - **Timeouts** follow the state (RFC 5321 §4.5.3.2): the socket's idle timeout is set to the one for
 *   what the server waits for, and smtp-server's timeout reply names it (`421 4.4.2`).
 *
 * The parser is still smtp-server's; the guard only decides which bytes it gets and when.
 */
export class InputGuard {
  readonly #connection: SmtpConnection;
  readonly #options: InputGuardOptions;
  /** The current parser's input. */
  #feed: Feed | null = null;
  #closed = false;

  // Command line being collected.
  #line: Buffer[] = [];
  #lineBytes = 0;
  #lineEndsWithCR = false;
  #lineTooLong = false;
  #commands = 0;
  #badCommands = 0;

  // DATA state, reset at each 354.
  #lineStart = true;
  #dot = 0;
  #pendingCR = false;
  #dataStarted = false;
  #bare: BareCharacter | null = null;
  #pipelined: PipeliningError['what'] | null = null;
  /** Message bytes had arrived when we sent 354. */
  #early354 = false;
  /** Set at the end of DATA until our reply to it is sent; what arrives meanwhile is kept here. */
  #awaitingReply = false;
  #afterData = '';

  #state: WaitState = 'greeting';

  constructor(connection: SmtpConnection, options: InputGuardOptions) {
    this.#connection = connection;
    this.#options = options;
    if (connection._parser) this.#attach(connection._parser as Parser);
    // A new parser comes with a new socket (STARTTLS); guard it the same way.
    const createParser = connection._createParser;
    connection._createParser = () => {
      const parser = createParser.call(connection);
      this.#attach(parser as Parser);
      return parser;
    };
    const send = connection.send;
    connection.send = (code, data, context) => this.#send(send, code, data, context);
  }

  /**
   * Why the current message must be refused, if it must: bare CR/LF/NUL (`550 5.5.2`) or pipelining
   * (`554 5.5.0`). Known before the parser ends the message's stream, so before `accept()` can finish.
   */
  error(): SmtpReplyError | null {
    if (this.#bare) return new BareLineEndingError(this.#bare);
    if (this.#pipelined) return new PipeliningError(this.#pipelined);
    return null;
  }

  /** Sets the idle timeout for what the server now waits for. */
  wait(state: WaitState): void {
    this.#state = state;
    const socket = this.#connection._socket;
    if (!socket.destroyed) socket.setTimeout(this.#options.timeouts[state]);
  }

  #attach(parser: Parser): void {
    const write = parser.write;
    const feed: Feed = {
      parser,
      write: parser._write,
      outstanding: false,
      queued: [],
      chunk: null,
      pos: 0,
      next: null,
    };
    // Whatever was left of the previous parser's input is dropped (after STARTTLS, plaintext sent
    // before the handshake must never be read as commands: RFC 3207 §4.2).
    if (this.#feed) this.#finish(this.#feed);
    this.#feed = feed;
    this.#resetLine();
    parser._write = (chunk: Buffer, encoding, next) => {
      if (this.#closed || this.#feed !== feed) return next();
      if (feed.outstanding) {
        // The parser calling itself with what is left of bytes we handed it: by construction nothing is
        // (each hand-over ends at a line end or at the end of DATA). Anything else means the parser split
        // the input differently from us; it must not run commands the guard has not seen.
        if (chunk.length === 0) return feed.write.call(parser, chunk, encoding, next);
        this.#refuse('4.5.2 Protocol error: unexpected framing, closing connection', 'framing');
        return next();
      }
      if (feed.queued[0] === chunk) feed.queued.shift();
      else feed.queued = [];
      feed.chunk = chunk;
      feed.pos = 0;
      feed.next = next;
      this.#pump(feed);
    };
    parser.write = ((chunk: Buffer, ...rest: unknown[]) => {
      if (this.#feed === feed && Buffer.isBuffer(chunk) && chunk.length) {
        if (this.#awaitingReply) this.#keepAfterData(chunk);
        feed.queued.push(chunk);
      }
      return (write as (...args: unknown[]) => boolean).call(parser, chunk, ...rest);
    }) as Parser['write'];
  }

  /** Hands the parser one piece and carries on when it is done with it (if it is still current). */
  #forward(feed: Feed, piece: Buffer, then: (feed: Feed) => void): void {
    feed.outstanding = true;
    feed.write.call(feed.parser, piece, 'buffer', () => {
      feed.outstanding = false;
      if (this.#feed === feed) then(feed);
      else this.#finish(feed);
    });
  }

  #pump(feed: Feed): void {
    const parser = feed.parser;
    for (;;) {
      const chunk = feed.chunk;
      if (!chunk || this.#closed || parser.isClosed || feed.pos >= chunk.length) {
        this.#finish(feed);
        return;
      }

      if (parser._dataMode) {
        if (!this.#dataStarted) {
          this.#dataStarted = true;
          this.wait('dataBlock');
        }
        const end = this.#scanData(chunk, feed.pos);
        const stop = end < 0 ? chunk.length : end;
        const piece = chunk.subarray(feed.pos, stop);
        feed.pos = stop;
        if (end < 0) {
          this.#forward(feed, piece, (f) => this.#pump(f));
          return;
        }
        this.#awaitingReply = true;
        this.#afterData = '';
        this.#keepAfterData(chunk.subarray(stop));
        for (const queued of feed.queued) this.#keepAfterData(queued);
        this.#forward(feed, piece, (f) => this.#afterEndOfData(f));
        return;
      }

      const line = this.#scanCommand(feed, chunk);
      if (line === 'partial') continue;
      if (line === 'refused') {
        this.#finish(feed);
        return;
      }
      if (line === 'too long') {
        this.#connection.send(500, '5.5.2 Line too long');
        continue;
      }
      this.#forward(feed, line, (f) => this.#afterCommand(f));
      return;
    }
  }

  /**
   * Collects the command line from `feed.pos`. Returns the whole line (CRLF included) once it is complete,
   * 'partial' when the chunk ended first, 'too long' for a complete line over the limit (discarded) and
   * 'refused' when the line had a bare CR, bare LF or NUL (the connection is then closing).
   */
  #scanCommand(feed: Feed, chunk: Buffer): Buffer | 'partial' | 'too long' | 'refused' {
    const from = feed.pos;
    if (
      this.#commands === 0 &&
      this.#lineBytes === 0 &&
      looksLikeProxyHeader(chunk.subarray(from, from + 12))
    ) {
      this.#refuseProxyHeader();
      return 'refused';
    }
    const lf = chunk.indexOf(LF, from);
    const stop = lf < 0 ? chunk.length : lf;
    let found: BareCharacter | null = null;
    if (this.#lineEndsWithCR && stop > from) found = 'bare CR';
    for (let i = from; i < stop && !found; i++) {
      const b = chunk[i];
      if (b === NUL) found = 'NUL';
      else if (b === CR && i < stop - 1) found = 'bare CR';
    }
    const crBeforeLf = stop > from ? chunk[stop - 1] === CR : this.#lineEndsWithCR;
    if (!found && lf >= 0 && !crBeforeLf) found = 'bare LF';
    if (found) {
      this.#options.logger.info('smtp command refused', { session: this.#connection.id, found });
      this.#refuse(`4.5.2 Syntax error: ${found} in a command, lines must end with CRLF`, found);
      return 'refused';
    }

    const end = lf < 0 ? chunk.length : lf + 1;
    this.#lineBytes += end - from;
    if (this.#lineBytes > this.#options.maxCommandLineBytes) {
      this.#lineTooLong = true;
      this.#line = [];
    } else {
      this.#line.push(chunk.subarray(from, end));
    }
    feed.pos = end;
    if (lf < 0) {
      this.#lineEndsWithCR = crBeforeLf;
      return 'partial';
    }
    const tooLong = this.#lineTooLong;
    const line = this.#line.length === 1 ? this.#line[0]! : Buffer.concat(this.#line);
    this.#resetLine();
    if (this.#commands === 0 && looksLikeProxyHeader(line)) {
      this.#refuseProxyHeader();
      return 'refused';
    }
    this.#commands++;
    return tooLong ? 'too long' : line;
  }

  #resetLine(): void {
    this.#line = [];
    this.#lineBytes = 0;
    this.#lineEndsWithCR = false;
    this.#lineTooLong = false;
  }

  #afterCommand(feed: Feed): void {
    if (feed.parser._dataMode) {
      // DATA was accepted and answered 354: a new message starts.
      this.#lineStart = true;
      this.#dot = 0;
      this.#pendingCR = false;
      this.#dataStarted = false;
      this.#bare = null;
      this.#pipelined = this.#early354 ? 'before 354' : null;
      this.wait('dataInitiation');
    } else {
      this.wait(this.#sessionState());
    }
    this.#pump(feed);
  }

  #afterEndOfData(feed: Feed): void {
    this.#awaitingReply = false;
    if (feed.parser._dataMode) {
      // We saw the end of DATA and the parser did not: never let the two disagree.
      this.#refuse('4.5.2 Protocol error: unexpected framing, closing connection', 'framing');
      this.#finish(feed);
      return;
    }
    if (!QUIT.startsWith(this.#afterData.toUpperCase())) {
      this.#options.logger.info('smtp commands pipelined after the end of DATA', {
        session: this.#connection.id,
        bytes: JSON.stringify(this.#afterData),
      });
      this.#refuse('4.5.0 SMTP synchronization error: commands sent before the reply to DATA', 'pipelining');
      this.#finish(feed);
      return;
    }
    this.wait('idle');
    this.#pump(feed);
  }

  /** Keeps the start of what follows the end of DATA; anything but (part of) `QUIT` refuses the message. */
  #keepAfterData(bytes: Buffer): void {
    if (!bytes.length || this.#afterData.length >= KEEP_AFTER_DATA) return;
    this.#afterData += bytes.subarray(0, KEEP_AFTER_DATA - this.#afterData.length).toString('latin1');
    if (!QUIT.startsWith(this.#afterData.toUpperCase())) this.#pipelined ??= 'after end of data';
  }

  /**
   * Scans DATA bytes from `from`: notes the first bare CR, bare LF or NUL, and returns the index just
   * after `<CR><LF>.<CR><LF>` (or `.<CR><LF>` at the very start), or -1 when the chunk ends first.
   */
  #scanData(chunk: Buffer, from: number): number {
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
    if (bare && !this.#bare) {
      this.#bare = bare;
      this.#options.logger.info('smtp message refused', { session: this.#connection.id, found: bare });
    }
    return end;
  }

  #sessionState(): WaitState {
    const envelope = this.#connection.session.envelope;
    if (envelope?.rcptTo.length) return 'rcpt';
    if (envelope?.mailFrom) return 'mail';
    return this.#commands === 0 ? 'greeting' : 'idle';
  }

  /** Done with the feed's current chunk (the rest of it, if any, is dropped). */
  #finish(feed: Feed): void {
    const next = feed.next;
    feed.next = null;
    feed.chunk = null;
    next?.();
  }

  /**
   * A PROXY header (v1 or v2) where a command should be: a trusted proxy's header is read before the
   * session starts, so this one comes from an address that may not say who the client is.
   */
  #refuseProxyHeader(): void {
    this.#options.logger.info('smtp PROXY header from an untrusted address', {
      session: this.#connection.id,
      remoteAddress: this.#connection.remoteAddress,
    });
    this.#refuse('4.7.0 PROXY header not accepted from your address, closing connection', 'proxy header');
  }

  /** `421` and close; nothing more from this client reaches the parser. */
  #refuse(text: string, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.logger.info('smtp connection refused', { session: this.#connection.id, reason });
    this.#connection.send(421, text);
  }

  #send(
    send: SmtpConnection['send'],
    code: number,
    data: string | string[] | null | undefined,
    context: string | false | undefined,
  ): void {
    const connection = this.#connection;
    if (this.#awaitingReply) {
      // Our reply to the end of DATA; a new transaction starts with a clean slate if it was accepted.
      this.#awaitingReply = false;
      if (code === 250) this.#badCommands = 0;
    }
    if (code === 354) {
      // Sent while the parser handles the DATA line: anything after that line already here was sent
      // without waiting for this reply.
      const feed = this.#feed;
      this.#early354 =
        !!feed && ((feed.chunk !== null && feed.pos < feed.chunk.length) || feed.queued.length > 0);
    }
    if (code === 421 && data === 'Timeout - closing connection') {
      send.call(
        connection,
        421,
        `4.4.2 ${connection.name} Timeout waiting for ${WAITING_FOR[this.#state]}, closing connection`,
        context,
      );
      return;
    }
    if ((code >= 500 && code <= 504) || code === 555) {
      // smtp-server's own counter would close the session at 10 whatever maxBadCommands says.
      connection._unrecognizedCommands = 0;
      if (++this.#badCommands >= this.#options.maxBadCommands) {
        this.#options.logger.info('smtp session closed: too many bad commands', { session: connection.id });
        this.#closed = true;
        send.call(connection, 421, '4.7.0 Too many bad commands, closing connection', context);
        return;
      }
    }
    send.call(connection, code, data, context);
  }
}
