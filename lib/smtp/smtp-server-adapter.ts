import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import { SmtpServerChangedError } from './errors.ts';

/**
 * The one place that touches smtp-server's internals (private members, reply wording). The rest of
 * lib/smtp sees a connection through {@link ClientConnection} and the server through
 * {@link adaptSmtpServer}'s hooks: replies going out, raw input coming in, the PROXY header, the pause
 * before the greeting, and the registry of live connections.
 *
 * Written against this version; test/unit/smtp/smtp-server-adapter.test.ts checks the installed one and
 * exercises every hook over a real socket, so an upgrade that changes them fails there, by hook name.
 */
export const ADAPTED_SMTP_SERVER_VERSION = '3.21.6';

type RawConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;
type RawParser = Exclude<RawConnection['_parser'], false>;
type ReplyContext = string | false | undefined;

/** A reply's text: one line, several (a multi-line reply such as EHLO's), or none. */
export type ReplyText = string | string[] | null | undefined;
export type SendReply = (code: number, text: ReplyText) => void;
/**
 * Sees a reply on its way out and passes it on with `next` (as it is, changed, or not at all). A filter
 * added later sees each reply before those added earlier.
 */
export type ReplyFilter = (code: number, text: ReplyText, next: SendReply) => void;

/** One of smtp-server's command parsers (a connection gets a new one after STARTTLS). */
export interface ParserInput {
  /** The parser is reading message data (between our `354` and the end of DATA). */
  readonly inData: boolean;
  /** The parser takes no more input (the connection is closing or has moved to a new parser). */
  readonly closed: boolean;
  /** Hands bytes to smtp-server's own parsing; `done` runs once the parser has dealt with them. */
  parse(bytes: Buffer, done: () => void): void;
}

/** What takes over a parser's input: it decides which bytes the parser gets, and when. */
export interface InputInterceptor {
  /** Bytes arrived from the socket; they wait in front of the parser until {@link intercept} gets them. */
  received(chunk: Buffer): void;
  /**
   * The parser would now parse `chunk`: hand it what it may have with {@link ParserInput.parse}, and call
   * `done` when finished with the chunk (what was not handed on is dropped).
   */
  intercept(chunk: Buffer, done: () => void): void;
}

/** The hooks {@link adaptSmtpServer} installs. */
export interface SmtpServerHooks {
  /** Called once for each new connection, before smtp-server reads from its socket. */
  onConnection(connection: ClientConnection): void;
  /** Sockets it expects a PROXY header from reach the session only once `read` has read it. */
  proxyHeader?: ProxyHeaderHook;
  /**
   * The pause before each `220` greeting, in ms, in place of smtp-server's fixed 100 ms. A client that
   * talks during the pause gets smtp-server's `421 <name> You talk too soon`. 0: the greeting goes out at
   * once and what a client sends before it waits for it (no early-talker check).
   * @default smtp-server's own (100 ms)
   */
  greetingDelayMs?: number;
}

export interface ProxyHeaderHook {
  /** Whether a socket from this address must start with a PROXY header. */
  expectedFrom(remoteAddress: string): boolean;
  /**
   * Reads the header: the client it names, or null when it names none (the socket stands for itself).
   * A rejection drops the socket (the hook answers and closes it).
   */
  read(socket: Socket): Promise<{ address: string; port: number } | null>;
}

/** The live connections, findable by session id (`session.id` is the connection's id). */
export interface ConnectionRegistry {
  byId(id: string): ClientConnection | undefined;
  all(): ClientConnection[];
}

/** A reply text that begins with its own enhanced status code, e.g. `5.7.1 Relaying denied`. */
const OWN_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3}(?: |$)/;
/** smtp-server's reply when a socket has been idle for its timeout. */
const IDLE_TIMEOUT_TEXT = 'Timeout - closing connection';
/** smtp-server's (non-standard) reply to AUTH before STARTTLS. */
const STARTTLS_REQUIRED_CODE = 538;

/** Recognises smtp-server's own replies by their code and wording. */
export const smtpServerReplies = {
  isIdleTimeout: (code: number, text: ReplyText): boolean => code === 421 && text === IDLE_TIMEOUT_TEXT,
  isStartTlsRequired: (code: number): boolean => code === STARTTLS_REQUIRED_CODE,
};

/**
 * One client connection. Every reply, smtp-server's own and ours, passes the filters; the last step
 * drops the enhanced status code smtp-server would put in front of a text that already starts with one
 * (with enhanced codes on, it picks one from the reply number alone: `550` → `5.1.1`, even for
 * `550 5.7.1 …`).
 */
export class ClientConnection {
  readonly #raw: RawConnection;
  readonly #filters: ReplyFilter[] = [];

  constructor(raw: RawConnection) {
    expectMember(raw, 'send', 'function', 'connection.send');
    expectMember(raw, '_createParser', 'function', 'connection._createParser');
    expectMember(raw, '_socket', 'object', 'connection._socket');
    expectMember(raw, '_unrecognizedCommands', 'number', 'connection._unrecognizedCommands');
    this.#raw = raw;
    const send = raw.send;
    raw.send = (code, text, context) => this.#dispatch(send, code, text, context);
  }

  get id(): string {
    return this.#raw.id;
  }
  get remoteAddress(): string {
    return this.#raw.remoteAddress;
  }
  /** The server's name in replies. */
  get hostname(): string {
    return this.#raw.name;
  }
  /** TLS is on (after STARTTLS). */
  get secure(): boolean {
    return this.#raw.secure;
  }
  get envelope(): SMTPServerSession['envelope'] | undefined {
    return this.#raw.session.envelope;
  }
  /** The socket now (a TLS socket after STARTTLS). */
  get socket(): Socket {
    return this.#raw._socket;
  }

  /** Sends a reply; it passes every filter, as smtp-server's own replies do. */
  send(code: number, text: ReplyText): void {
    this.#raw.send(code, text);
  }

  filterReplies(filter: ReplyFilter): void {
    this.#filters.push(filter);
  }

  /** Sets smtp-server's count of bad commands back to 0 (it closes the session at a fixed 10). */
  forgetBadCommands(): void {
    this.#raw._unrecognizedCommands = 0;
  }

  /** Takes over the input of the current parser and of every parser after it (STARTTLS). */
  interceptInput(interceptorFor: (parser: ParserInput) => InputInterceptor): void {
    const raw = this.#raw;
    if (raw._parser) interceptParser(raw._parser, interceptorFor);
    const createParser = raw._createParser;
    raw._createParser = () => {
      const parser = createParser.call(raw);
      interceptParser(parser, interceptorFor);
      return parser;
    };
  }

  #dispatch(send: RawConnection['send'], code: number, text: ReplyText, context: ReplyContext): void {
    const raw = this.#raw;
    let next: SendReply = (c, t) =>
      send.call(raw, c, t, typeof t === 'string' && OWN_ENHANCED_CODE.test(t) ? false : context);
    for (const filter of this.#filters) {
      const inner = next;
      next = (c, t) => filter(c, t, inner);
    }
    next(code, text);
  }
}

function interceptParser(parser: RawParser, interceptorFor: (parser: ParserInput) => InputInterceptor): void {
  expectMember(parser, '_write', 'function', 'parser._write');
  expectMember(parser, 'write', 'function', 'parser.write');
  expectMember(parser, '_dataMode', 'boolean', 'parser._dataMode');
  expectMember(parser, 'isClosed', 'boolean', 'parser.isClosed');
  const parse = parser._write;
  const write = parser.write;
  const input: ParserInput = {
    get inData() {
      return parser._dataMode;
    },
    get closed() {
      return parser.isClosed;
    },
    parse: (bytes, done) => parse.call(parser, bytes, 'buffer', () => done()),
  };
  const interceptor = interceptorFor(input);
  parser._write = (chunk: Buffer, _encoding, next) => interceptor.intercept(chunk, () => next());
  parser.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk) && chunk.length) interceptor.received(chunk);
    return (write as (...args: unknown[]) => boolean).call(parser, chunk, ...rest);
  }) as RawParser['write'];
}

/**
 * Installs the hooks on `server` (before it listens) and returns its registry of live connections.
 * smtp-server adds each new connection to `server.connections` just before it starts the session and
 * removes it when it closes; the registry stands in for that set.
 */
export function adaptSmtpServer(server: SMTPServer, hooks: SmtpServerHooks): ConnectionRegistry {
  expectMember(server, 'connections', 'object', 'server.connections');
  const delayMs = hooks.greetingDelayMs;
  const registry = new RegistrySet(
    hooks.onConnection,
    delayMs === undefined ? null : (raw) => delayGreeting(server, raw, delayMs),
  );
  server.connections = registry;
  if (hooks.proxyHeader) installProxyHook(server, hooks.proxyHeader);
  return registry;
}

class RegistrySet extends Set<RawConnection> implements ConnectionRegistry {
  readonly #byRaw = new Map<RawConnection, ClientConnection>();
  readonly #byId = new Map<string, ClientConnection>();
  readonly #onConnection: (connection: ClientConnection) => void;
  readonly #beforeInit: ((raw: RawConnection) => void) | null;

  constructor(
    onConnection: (connection: ClientConnection) => void,
    beforeInit: ((raw: RawConnection) => void) | null,
  ) {
    super();
    this.#onConnection = onConnection;
    this.#beforeInit = beforeInit;
  }

  override add(raw: RawConnection): this {
    if (!this.#byRaw.has(raw)) {
      const connection = new ClientConnection(raw);
      this.#beforeInit?.(raw);
      this.#byRaw.set(raw, connection);
      this.#byId.set(raw.id, connection);
      this.#onConnection(connection);
    }
    return super.add(raw);
  }

  override delete(raw: RawConnection): boolean {
    const connection = this.#byRaw.get(raw);
    this.#byRaw.delete(raw);
    if (connection && this.#byId.get(raw.id) === connection) this.#byId.delete(raw.id);
    return super.delete(raw);
  }

  override clear(): void {
    this.#byRaw.clear();
    this.#byId.clear();
    super.clear();
  }

  byId(id: string): ClientConnection | undefined {
    return this.#byId.get(id);
  }

  all(): ClientConnection[] {
    return [...this.#byRaw.values()];
  }
}

/**
 * Replaces smtp-server's `init()` of a connection that has just been registered (its `connect()` adds a
 * connection to `server.connections`, then calls `init()`): the same steps (the socket's listeners, then
 * smtp-server's own `maxClients` check, a no-op unless that option is set) with the greeting after
 * `delayMs` instead of its fixed 100 ms. The timer is unref'd, as smtp-server's, and cleared if the client
 * leaves first.
 */
function delayGreeting(server: SMTPServer, raw: RawConnection, delayMs: number): void {
  expectMember(raw, 'init', 'function', 'connection.init');
  expectMember(raw, '_setListeners', 'function', 'connection._setListeners');
  expectMember(raw, 'connectionReady', 'function', 'connection.connectionReady');
  expectMember(raw, '_onCommand', 'function', 'connection._onCommand');
  raw.init = () =>
    raw._setListeners(() => {
      const maxClients = server.options.maxClients;
      if (maxClients && server.connections.size > maxClients) {
        raw.send(421, `${raw.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      if (delayMs === 0) {
        greetNow(raw);
        return;
      }
      const timer = setTimeout(() => raw.connectionReady(), delayMs);
      timer.unref();
      raw._socket.once('close', () => clearTimeout(timer));
    });
}

/**
 * Starts the session at once. smtp-server answers a command that arrives before its greeting is out
 * (the reverse lookup, `onConnect` and `onSecure` may take a while) with `421 You talk too soon`; here
 * such a command waits for the greeting instead. Its parser waits for the command's callback, so at most
 * one command line (plus a last one without CRLF at the end of input) is ever held.
 */
function greetNow(raw: RawConnection): void {
  const onCommand = raw._onCommand;
  const held: Array<() => void> = [];
  raw._onCommand = (command, callback) => {
    held.push(() => onCommand.call(raw, command, callback));
  };
  raw.connectionReady(() => {
    raw._onCommand = onCommand;
    for (const run of held.splice(0)) run();
  });
}

type ProxyCallback = (err: Error | null, socketOptions?: Record<string, unknown>) => void;

/**
 * A socket the hook expects a PROXY header from reaches smtp-server only once the header is read, with
 * the client's address in place of the proxy's; any other goes straight on. (smtp-server's own
 * `useProxy` cannot say why it refused a header, nor read v2.)
 */
function installProxyHook(server: SMTPServer, hook: ProxyHeaderHook): void {
  expectMember(server, '_handleProxy', 'function', 'server._handleProxy');
  expectMember(server, '_expectsProxyHeader', 'function', 'server._expectsProxyHeader');
  const internals = server as unknown as {
    _expectsProxyHeader(socket: Socket): boolean;
    _handleProxy(socket: Socket, callback: ProxyCallback): void;
  };
  const passThrough = internals._handleProxy.bind(server);
  internals._expectsProxyHeader = (socket) => hook.expectedFrom(socket.remoteAddress ?? '');
  internals._handleProxy = (socket, callback) => {
    if (!hook.expectedFrom(socket.remoteAddress ?? '')) return passThrough(socket, callback);
    hook.read(socket).then(
      (client) =>
        callback(null, {
          id: sessionId(),
          remoteAddress: client?.address ?? socket.remoteAddress,
          remotePort: client?.port ?? socket.remotePort,
        }),
      (err: Error) => callback(err),
    );
  };
}

/** Throws, naming the hook, when smtp-server's `owner` has no `member` of that type (after an upgrade). */
function expectMember(
  owner: object,
  member: string,
  type: 'function' | 'object' | 'number' | 'boolean',
  hook: string,
): void {
  const value = (owner as Record<string, unknown>)[member];
  if (typeof value !== type || value === null) throw new SmtpServerChangedError(hook);
}

/** A session id shaped like smtp-server's own. */
function sessionId(): string {
  return BigInt(`0x${randomBytes(10).toString('hex')}`)
    .toString(32)
    .padStart(16, '0');
}
