import type { Logger } from '../kernel/index.ts';
import { CommandLineReader, isRefusal, type LineRefusal } from './command-line-reader.ts';
import { DataScanner } from './data-scanner.ts';
import { BareLineEndingError, PipeliningError, type SmtpReplyError } from './errors.ts';
import { type SessionActivity, SessionClock, WAITING_FOR, type WaitState } from './session-activity.ts';
import {
  type ClientConnection,
  type InputInterceptor,
  type ParserInput,
  type ReplyText,
  type SendReply,
  smtpServerReplies,
} from './smtp-server-adapter.ts';

/** The only bytes that may follow the end of DATA before our reply (RFC 2920 §4 pipelines QUIT there). */
const QUIT = 'QUIT\r\n';
/** How much of what follows the end of DATA is kept to tell a pipelined QUIT from anything else. */
const KEEP_AFTER_DATA = QUIT.length + 1;
/** Replies the client may leave unread before we stop reading its commands (it must read to go on). */
const MAX_UNREAD_REPLY_BYTES = 64 * 1024;
/** Commands run in one event-loop turn before the guard lets other sessions have theirs. */
const COMMANDS_PER_TURN = 64;

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

/** The input of one parser (a connection gets a new one with STARTTLS). */
interface Feed {
  parser: ParserInput;
  /** The parser is working on bytes we handed it (its callback has not run yet). */
  outstanding: boolean;
  /** Chunks that arrived from the socket and wait in the parser's buffer, oldest first. */
  queued: Buffer[];
  /** The chunk being worked through, where we are in it, and the parser's callback for it. */
  chunk: Buffer | null;
  pos: number;
  next: (() => void) | null;
}

/** What one step of {@link InputGuard.#pump} did: stopped (to be resumed), or went on (a command run). */
type Step = 'wait' | 'next' | 'command';

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
  readonly #connection: ClientConnection;
  readonly #options: InputGuardOptions;
  readonly #lines: CommandLineReader;
  readonly #data = new DataScanner();
  readonly #clock = new SessionClock();
  /** The current parser's input. */
  #feed: Feed | null = null;
  #closed = false;
  #state: WaitState = 'greeting';
  #badCommands = 0;
  /** Commands received since the client's input last ran dry. */
  #batchCommands = 0;

  // The current DATA, from our 354 to our reply.
  #dataStarted = false;
  #pipelined: PipeliningError['what'] | null = null;
  /** Message bytes had arrived when we sent 354. */
  #early354 = false;
  /** Set at the end of DATA until our reply to it is sent; what arrives meanwhile is kept here. */
  #awaitingReply = false;
  #afterData = '';

  constructor(connection: ClientConnection, options: InputGuardOptions) {
    this.#connection = connection;
    this.#options = options;
    this.#lines = new CommandLineReader(options.maxCommandLineBytes);
    connection.interceptInput((parser) => this.#attach(parser));
    connection.filterReplies((code, text, next) => this.#filterReply(code, text, next));
  }

  /**
   * Why the current message must be refused, if it must: bare CR/LF/NUL (`550 5.5.2`) or pipelining
   * (`554 5.5.0`). Known before the parser ends the message's stream, so before `accept()` can finish.
   */
  error(): SmtpReplyError | null {
    if (this.#data.bare) return new BareLineEndingError(this.#data.bare);
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
      ...this.#clock.read(now),
    };
  }

  /** Ends the session: `421` with `text`, then the connection closes; nothing more is read. */
  close(text: string, reason: string): void {
    this.#refuse(text, reason);
  }

  /** Sets the idle timeout for what the server now waits for. */
  wait(state: WaitState): void {
    this.#state = state;
    const socket = this.#connection.socket;
    if (!socket.destroyed) socket.setTimeout(this.#options.timeouts[state]);
  }

  #attach(parser: ParserInput): InputInterceptor {
    const feed: Feed = { parser, outstanding: false, queued: [], chunk: null, pos: 0, next: null };
    // Whatever was left of the previous parser's input is dropped (after STARTTLS, plaintext sent
    // before the handshake must never be read as commands: RFC 3207 §4.2).
    if (this.#feed) this.#finish(this.#feed);
    this.#feed = feed;
    this.#lines.reset();
    return {
      received: (chunk) => {
        if (this.#feed !== feed) return;
        if (this.#awaitingReply) this.#keepAfterData(chunk);
        feed.queued.push(chunk);
      },
      intercept: (chunk, done) => this.#intercept(feed, chunk, done),
    };
  }

  /** The parser would parse `chunk` now: it gets it piece by piece from {@link #pump}. */
  #intercept(feed: Feed, chunk: Buffer, done: () => void): void {
    if (this.#closed || this.#feed !== feed) {
      done();
      return;
    }
    if (feed.outstanding) {
      // The parser calling itself with what is left of bytes we handed it: by construction nothing is
      // (each hand-over ends at a line end or at the end of DATA). Anything else means the parser split
      // the input differently from us; it must not run commands the guard has not seen.
      if (chunk.length === 0) feed.parser.parse(chunk, done);
      else {
        this.#refuse('4.5.2 Protocol error: unexpected framing, closing connection', 'framing');
        done();
      }
      return;
    }
    if (feed.queued[0] === chunk) feed.queued.shift();
    else feed.queued = [];
    this.#clock.inputArrived();
    feed.chunk = chunk;
    feed.pos = 0;
    feed.next = done;
    this.#pump(feed);
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
    feed.parser.parse(piece, () => {
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
    const socket = this.#connection.socket;
    socket.cork(); // the replies to one pipelined batch leave in one write (RFC 2920), not one each
    try {
      let commandsThisTurn = 0;
      for (;;) {
        const chunk = feed.chunk;
        if (!chunk || this.#closed || feed.parser.closed || feed.pos >= chunk.length) {
          // The client's input ran dry: whatever it sends next was sent after reading our replies.
          if (feed.queued.length === 0) {
            this.#batchCommands = 0;
            this.#clock.inputRanDry();
          }
          this.#finish(feed);
          return;
        }
        const step = feed.parser.inData
          ? this.#pumpData(feed, chunk)
          : this.#pumpCommand(feed, chunk, commandsThisTurn);
        if (step === 'wait') return;
        if (step === 'command') commandsThisTurn++;
      }
    } finally {
      socket.uncork();
    }
  }

  /** Hands the parser message bytes up to the end of DATA (or the end of the chunk). */
  #pumpData(feed: Feed, chunk: Buffer): Step {
    if (!this.#dataStarted) {
      this.#dataStarted = true;
      this.#clock.dataStarted();
      this.wait('dataBlock');
    }
    const end = this.#scanData(chunk, feed.pos);
    const stop = end < 0 ? chunk.length : end;
    const piece = chunk.subarray(feed.pos, stop);
    this.#clock.dataArrived(piece.length);
    feed.pos = stop;
    if (end < 0) return this.#forward(feed, piece, () => true) ? 'next' : 'wait';
    this.#awaitingReply = true;
    this.#afterData = '';
    this.#keepAfterData(chunk.subarray(stop));
    for (const queued of feed.queued) this.#keepAfterData(queued);
    return this.#forward(feed, piece, (f) => this.#afterEndOfData(f)) ? 'next' : 'wait';
  }

  /** Hands the parser the next whole command line, unless the client must wait or be refused. */
  #pumpCommand(feed: Feed, chunk: Buffer, commandsThisTurn: number): Step {
    if (this.#repliesUnread()) {
      this.#resumeOnDrain(feed);
      return 'wait';
    }
    if (commandsThisTurn >= COMMANDS_PER_TURN) {
      setImmediate(() => {
        if (this.#feed === feed) this.#pump(feed);
        else this.#finish(feed);
      });
      return 'wait';
    }
    const { line, end } = this.#lines.read(chunk, feed.pos);
    feed.pos = end;
    if (line === 'partial') return 'next';
    if (isRefusal(line)) {
      this.#refuseLine(line.refused);
      this.#finish(feed);
      return 'wait';
    }
    if (++this.#batchCommands > this.#options.maxPipelinedCommands) {
      this.#options.logger.info('smtp session closed: too many pipelined commands', {
        session: this.#connection.id,
        limit: this.#options.maxPipelinedCommands,
      });
      this.#refuse('4.5.0 Too many commands without waiting for replies, closing connection', 'pipelining');
      this.#finish(feed);
      return 'wait';
    }
    if (line === 'too long') {
      this.#connection.send(500, '5.5.2 Line too long');
      return 'command';
    }
    this.#clock.commandArrived();
    return this.#forward(feed, line, (f) => this.#afterCommand(f)) ? 'command' : 'wait';
  }

  /** The client has left more than {@link MAX_UNREAD_REPLY_BYTES} of our replies unread. */
  #repliesUnread(): boolean {
    const socket = this.#connection.socket;
    return !socket.destroyed && socket.writableLength > MAX_UNREAD_REPLY_BYTES;
  }

  #resumeOnDrain(feed: Feed): void {
    const socket = this.#connection.socket;
    const resume = () => {
      socket.off('drain', resume);
      socket.off('close', resume);
      if (this.#feed === feed && !socket.destroyed) this.#pump(feed);
      else this.#finish(feed);
    };
    socket.on('drain', resume);
    socket.on('close', resume);
  }

  #afterCommand(feed: Feed): boolean {
    if (feed.parser.inData) {
      // DATA was accepted and answered 354: a new message starts.
      this.#data.begin();
      this.#dataStarted = false;
      this.#pipelined = this.#early354 ? 'before 354' : null;
      this.wait('dataInitiation');
    } else {
      this.wait(this.#sessionState());
    }
    return true;
  }

  #afterEndOfData(feed: Feed): boolean {
    this.#awaitingReply = false;
    if (feed.parser.inData) {
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
    this.#clock.commandArrived();
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

  /** {@link DataScanner.scan}, logging the message's first bare CR, bare LF or NUL. */
  #scanData(chunk: Buffer, from: number): number {
    const before = this.#data.bare;
    const end = this.#data.scan(chunk, from);
    const found = this.#data.bare;
    if (found && !before) {
      this.#options.logger.info('smtp message refused', { session: this.#connection.id, found });
    }
    return end;
  }

  #sessionState(): WaitState {
    const envelope = this.#connection.envelope;
    if (envelope?.rcptTo.length) return 'rcpt';
    if (envelope?.mailFrom) return 'mail';
    return this.#lines.commands === 0 ? 'greeting' : 'idle';
  }

  /** Done with the feed's current chunk (the rest of it, if any, is dropped). */
  #finish(feed: Feed): void {
    const next = feed.next;
    feed.next = null;
    feed.chunk = null;
    next?.();
  }

  /**
   * A command line with a bare CR, bare LF or NUL; or a PROXY header where a command should be (a trusted
   * proxy's header is read before the session starts, so this one comes from an address that may not
   * say who the client is).
   */
  #refuseLine(found: LineRefusal['refused']): void {
    if (found === 'proxy header') {
      this.#options.logger.info('smtp PROXY header from an untrusted address', {
        session: this.#connection.id,
        remoteAddress: this.#connection.remoteAddress,
      });
      this.#refuse('4.7.0 PROXY header not accepted from your address, closing connection', 'proxy header');
      return;
    }
    this.#options.logger.info('smtp command refused', { session: this.#connection.id, found });
    this.#refuse(`4.5.2 Syntax error: ${found} in a command, lines must end with CRLF`, found);
  }

  /** `421` and close; nothing more from this client reaches the parser. */
  #refuse(text: string, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.logger.info('smtp connection refused', { session: this.#connection.id, reason });
    this.#connection.send(421, text);
  }

  /** Every reply of the connection passes here: it moves the guard's state and rewords a few. */
  #filterReply(code: number, text: ReplyText, next: SendReply): void {
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
    if (smtpServerReplies.isIdleTimeout(code, text)) {
      const waitingFor = WAITING_FOR[this.#state];
      next(421, `4.4.2 ${this.#connection.hostname} Timeout waiting for ${waitingFor}, closing connection`);
      return;
    }
    if ((code >= 500 && code <= 504) || code === 555) {
      // smtp-server's own counter would close the session at 10 whatever maxBadCommands says.
      this.#connection.forgetBadCommands();
      if (++this.#badCommands >= this.#options.maxBadCommands) {
        this.#options.logger.info('smtp session closed: too many bad commands', {
          session: this.#connection.id,
        });
        this.#closed = true;
        next(421, '4.7.0 Too many bad commands, closing connection');
        return;
      }
    }
    next(code, text);
  }
}
