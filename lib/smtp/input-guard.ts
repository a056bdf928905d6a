import type { Logger } from '../kernel/index.ts';
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
/** Replies the client may leave unread before we stop reading its commands (it must read to go on). */
const MAX_UNREAD_REPLY_BYTES = 64 * 1024;
/** Commands run in one event-loop turn before the guard lets other sessions have theirs. */
const COMMANDS_PER_TURN = 64;

/** What the server waits for from the client; each state has its own timeout. */
export type WaitState = 'greeting' | 'idle' | 'mail' | 'rcpt' | 'dataInitiation' | 'dataBlock';

/** A snapshot of one session's progress, in ms and bytes. */
export interface SessionActivity {
  state: WaitState;
  /** The guard has refused the session (a `421` went out); it is on its way out. */
  closed: boolean;
  /** The end of DATA was seen and our reply is not out yet (the store or the check is working). */
  awaitingReply: boolean;
  /** Between our `354` and the end of DATA. */
  inData: boolean;
  ageMs: number;
  /** Since the last complete command line (or the end of the last DATA, or the greeting). */
  sinceCommandMs: number;
  /** Message bytes of the current DATA so far. */
  dataBytes: number;
  /** Of the current DATA, how long we have waited for the client's bytes. */
  dataWaitMs: number;
}

export interface InputGuardOptions {
  /** Longest command line, CRLF included. */
  maxCommandLineBytes: number;
  /** Bad commands (replies 500–504, 555) before `421 4.7.0`. */
  maxBadCommands: number;
  /**
   * Commands a client may send in one go, without its input ever running dry (RFC 2920 pipelining: a
   * whole transaction is MAIL, the RCPTs, DATA); past it `421 4.5.0`.
   */
  maxPipelinedCommands: number;
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
  /** Commands received since the client's input last ran dry. */
  #batchCommands = 0;
  /** When the session started, and when its last complete command (or end of DATA) arrived. */
  readonly #startedAt = performance.now();
  #lastCommandAt = this.#startedAt;
  /** Message bytes received since the first one of the current DATA. */
  #dataBytes = 0;
  /**
   * Time spent waiting for the client's bytes since the current DATA's first one: the data rate is
   * judged on it, so a slow store (we stop reading) never counts against the client.
   */
  #clientWaitMs = 0;
  /** When the client's input last ran dry (0 while we have its bytes to work on). */
  #dryAt = 0;

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

  /** Where the session stands (for the ingress's {@link SlotKeeper}). */
  activity(now = performance.now()): SessionActivity {
    const inData = (this.#state === 'dataBlock' || this.#state === 'dataInitiation') && !this.#awaitingReply;
    return {
      state: this.#state,
      closed: this.#closed,
      awaitingReply: this.#awaitingReply,
      inData,
      ageMs: now - this.#startedAt,
      sinceCommandMs: now - this.#lastCommandAt,
      dataBytes: this.#dataBytes,
      dataWaitMs: this.#clientWaitMs + (this.#dryAt ? now - this.#dryAt : 0),
    };
  }

  /** Ends the session: `421` with `text`, then the connection closes; nothing more is read. */
  close(text: string, reason: string): void {
    this.#refuse(text, reason);
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
      if (this.#dryAt) {
        this.#clientWaitMs += performance.now() - this.#dryAt;
        this.#dryAt = 0;
      }
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

  /**
   * Hands the parser one piece. Returns true when the parser was done with it at once (the caller goes on
   * in its loop: no recursion, however many commands one write holds); otherwise the parser's callback
   * runs `after` later and, if that says so, resumes {@link #pump} on a fresh stack.
   */
  #forward(feed: Feed, piece: Buffer, after: (feed: Feed) => boolean): boolean {
    feed.outstanding = true;
    let inline = true;
    let doneInline = false;
    feed.write.call(feed.parser, piece, 'buffer', () => {
      feed.outstanding = false;
      if (inline) {
        doneInline = true;
        return;
      }
      if (this.#feed !== feed) this.#finish(feed);
      else if (after(feed)) this.#pump(feed);
    });
    inline = false;
    if (!doneInline) return false;
    if (this.#feed !== feed) {
      this.#finish(feed);
      return false;
    }
    return after(feed);
  }

  /**
   * Works through the feed's input: a loop, never a recursion. It stops (to be resumed) when the parser is
   * busy, when the client has not read {@link MAX_UNREAD_REPLY_BYTES} of our replies (backpressure: its
   * commands wait in its own socket buffer, not in our memory), and every {@link COMMANDS_PER_TURN}
   * commands, so that one client's pipelined batch cannot keep other sessions waiting.
   */
  #pump(feed: Feed): void {
    const parser = feed.parser;
    let commandsThisTurn = 0;
    for (;;) {
      const chunk = feed.chunk;
      if (!chunk || this.#closed || parser.isClosed || feed.pos >= chunk.length) {
        // The client's input ran dry: whatever it sends next was sent after reading our replies.
        if (feed.queued.length === 0) {
          this.#batchCommands = 0;
          if (!this.#dryAt) this.#dryAt = performance.now();
        }
        this.#finish(feed);
        return;
      }

      if (parser._dataMode) {
        if (!this.#dataStarted) {
          this.#dataStarted = true;
          this.#dataBytes = 0;
          this.#clientWaitMs = 0;
          this.wait('dataBlock');
        }
        const end = this.#scanData(chunk, feed.pos);
        const stop = end < 0 ? chunk.length : end;
        const piece = chunk.subarray(feed.pos, stop);
        this.#dataBytes += piece.length;
        feed.pos = stop;
        if (end < 0) {
          if (!this.#forward(feed, piece, () => true)) return;
          continue;
        }
        this.#awaitingReply = true;
        this.#afterData = '';
        this.#keepAfterData(chunk.subarray(stop));
        for (const queued of feed.queued) this.#keepAfterData(queued);
        if (!this.#forward(feed, piece, (f) => this.#afterEndOfData(f))) return;
        continue;
      }

      if (this.#repliesUnread()) {
        this.#resumeOnDrain(feed);
        return;
      }
      if (commandsThisTurn >= COMMANDS_PER_TURN) {
        setImmediate(() => {
          if (this.#feed === feed) this.#pump(feed);
          else this.#finish(feed);
        });
        return;
      }
      const line = this.#scanCommand(feed, chunk);
      if (line === 'partial') continue;
      if (line === 'refused') {
        this.#finish(feed);
        return;
      }
      commandsThisTurn++;
      if (++this.#batchCommands > this.#options.maxPipelinedCommands) {
        this.#options.logger.info('smtp session closed: too many pipelined commands', {
          session: this.#connection.id,
          limit: this.#options.maxPipelinedCommands,
        });
        this.#refuse('4.5.0 Too many commands without waiting for replies, closing connection', 'pipelining');
        this.#finish(feed);
        return;
      }
      if (line === 'too long') {
        this.#connection.send(500, '5.5.2 Line too long');
        continue;
      }
      this.#lastCommandAt = performance.now();
      if (!this.#forward(feed, line, (f) => this.#afterCommand(f))) return;
    }
  }

  /** The client has left more than {@link MAX_UNREAD_REPLY_BYTES} of our replies unread. */
  #repliesUnread(): boolean {
    const socket = this.#connection._socket;
    return !socket.destroyed && socket.writableLength > MAX_UNREAD_REPLY_BYTES;
  }

  #resumeOnDrain(feed: Feed): void {
    const socket = this.#connection._socket;
    const resume = () => {
      socket.off('drain', resume);
      socket.off('close', resume);
      if (this.#feed === feed && !socket.destroyed) this.#pump(feed);
      else this.#finish(feed);
    };
    socket.on('drain', resume);
    socket.on('close', resume);
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

  #afterCommand(feed: Feed): boolean {
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
    return true;
  }

  #afterEndOfData(feed: Feed): boolean {
    this.#awaitingReply = false;
    if (feed.parser._dataMode) {
      // We saw the end of DATA and the parser did not: never let the two disagree.
      this.#refuse('4.5.2 Protocol error: unexpected framing, closing connection', 'framing');
      this.#finish(feed);
      return false;
    }
    if (!QUIT.startsWith(this.#afterData.toUpperCase())) {
      this.#options.logger.info('smtp commands pipelined after the end of DATA', {
        session: this.#connection.id,
        bytes: JSON.stringify(this.#afterData),
      });
      this.#refuse('4.5.0 SMTP synchronization error: commands sent before the reply to DATA', 'pipelining');
      this.#finish(feed);
      return false;
    }
    this.#lastCommandAt = performance.now();
    this.#dataStarted = false;
    this.wait('idle');
    return true;
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
