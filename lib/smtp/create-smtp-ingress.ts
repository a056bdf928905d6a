import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { SmtpOptions } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import { LoginLimiter } from '../submission/index.ts';
import { AcceptedCounter } from './accepted-counter.ts';
import { IngressConfigError } from './errors.ts';
import { InputGuard, type InputGuardOptions } from './input-guard.ts';
import { smtpDefaults } from './limits.ts';
import { proxyHeaderHook } from './proxy-header-hook.ts';
import { type ReceiveContext, receiveMessage } from './receive-message.ts';
import { SessionChecks } from './session-checks.ts';
import { SlotKeeper } from './slot-keeper.ts';
import { adaptSmtpServer, type ClientConnection, type ConnectionRegistry } from './smtp-server-adapter.ts';
import { requireStartTlsBeforeAuth, submissionAuthHandler } from './submission-auth.ts';
import type { SmtpIngress, SmtpIngressDeps } from './types.ts';

const SHUTDOWN_REPLY = '4.3.2 Server shutting down';

const noLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The SMTP ingress: an smtp-server that refuses unroutable recipients at RCPT time, streams each message
 * into `accept()` and answers `250` only once `accept()` says the message is durable.
 *
 * Replies: `550 …` (the router's verdict) at RCPT, `452 4.5.3` past `maxRecipients`, `552 5.3.4` for a
 * message over `maxMessageBytes` (at MAIL FROM when `SIZE=` says so, else at the end of DATA),
 * `451 4.3.0` when `accept()` fails, `250 2.0.0 Ok: queued as <id>` on success.
 *
 * Early talkers: the `220` comes `greetingDelayMs` after the connection; a client that talks before it
 * gets `421 <hostname> You talk too soon` (with 0, what it sent waits for the greeting instead).
 *
 * Hardening (see {@link InputGuard}): only `<CR><LF>.<CR><LF>` ends DATA; bare CR, bare LF and NUL refuse
 * the message (`550 5.5.2`) or, in a command, the connection (`421 4.5.2`); pipelining around DATA is
 * refused (`554 5.5.0` / `421 4.5.0`). Limits: `maxClients`, `maxClientsPerIp` and `connectionRatePerIp`
 * (`421 4.7.0` instead of the greeting), `messageRatePerIp` (`450 4.7.1` at MAIL FROM), `maxBadCommands`
 * (`421 4.7.0`), `maxCommandLineBytes` (`500 5.5.2`), and the RFC 5321 §4.5.3.2 timeouts (`421 4.4.2`).
 *
 * STARTTLS is offered only with `deps.tls` (never with smtp-server's built-in test key); AUTH only on a
 * submission listener (`deps.submission`), and there only after STARTTLS (`530 5.7.0` before it). With
 * `options.proxyProtocol`, trusted proxies must send a PROXY header (v1 or v2) and anyone else must not.
 */
export function createSmtpIngress(deps: SmtpIngressDeps): SmtpIngress {
  return new SmtpIngressServer(deps);
}

class SmtpIngressServer implements SmtpIngress {
  readonly server: SMTPServer;
  readonly #options: Required<SmtpOptions>;
  readonly #logger: Logger;
  readonly #slots: SlotKeeper;
  readonly #checks: SessionChecks;
  readonly #receiveContext: ReceiveContext;
  readonly #accepted: AcceptedCounter;
  readonly #connections: ConnectionRegistry;
  readonly #guards = new WeakMap<ClientConnection, InputGuard>();
  /** Sessions with a DATA in progress (by session id). */
  readonly #receiving = new Set<string>();
  #closing: Promise<void> | null = null;

  constructor(deps: SmtpIngressDeps) {
    const options = withDefaults(deps.options);
    const logger = deps.logger ?? noLogger;
    const submission = deps.submission ?? null;
    if (submission && !deps.tls) {
      throw new IngressConfigError('submission: a TLS certificate is required (STARTTLS comes before AUTH)');
    }
    this.#options = options;
    this.#logger = logger;
    this.#accepted = new AcceptedCounter(logger);
    const guardOptions = inputGuardOptions(options, logger);
    this.#slots = new SlotKeeper({ ...options, timeouts: guardOptions.timeouts }, logger);
    this.#checks = new SessionChecks(options, logger, this.#slots, deps.checkRecipient);
    this.#receiveContext = {
      deps,
      logger,
      hostname: options.hostname,
      maxMessageBytes: options.maxMessageBytes,
      dataTerminationTimeoutMs: options.dataTerminationTimeoutMs,
      accepted: this.#accepted,
    };
    this.server = new SMTPServer({
      ...serverOptions(options, deps),
      ...(submission && {
        onAuth: submissionAuthHandler(submission, submission.loginLimiter ?? new LoginLimiter(), logger),
      }),
      ...this.#sessionHandlers(),
    });
    const proxyProtocol = options.proxyProtocol;
    this.#connections = adaptSmtpServer(this.server, {
      greetingDelayMs: options.greetingDelayMs,
      onConnection: (connection) => {
        this.#guards.set(connection, new InputGuard(connection, guardOptions));
        if (submission) requireStartTlsBeforeAuth(connection);
      },
      ...(proxyProtocol && {
        proxyHeader: proxyHeaderHook(proxyProtocol.trustedProxies, proxyProtocol.timeoutMs ?? 10_000, logger),
      }),
    });
    this.server.on('error', (err: NodeJS.ErrnoException & { remoteAddress?: string }) => {
      // Mostly clients that went away (ECONNRESET, EPIPE, timeouts); never fatal for the server.
      logger.warn('smtp connection error', {
        code: err.code,
        error: err.message,
        remoteAddress: err.remoteAddress,
      });
    });
  }

  listen(): Promise<{ port: number }> {
    const server = this.server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.server.once('error', onError);
      server.listen(this.#options.port, this.#options.host, () => {
        server.server.off('error', onError);
        resolve({ port: (server.server.address() as AddressInfo).port });
      });
    });
  }

  close(): Promise<void> {
    this.#slots.close();
    this.#closing ??= new Promise<void>((resolve) => {
      this.server.close(() => {
        this.#accepted.close();
        resolve();
      });
      // smtp-server would keep idle sessions until closeTimeout; only a DATA in progress may finish.
      for (const connection of this.#connections.all()) {
        if (!this.#receiving.has(connection.id)) connection.send(421, SHUTDOWN_REPLY);
      }
    });
    return this.#closing;
  }

  /** smtp-server's session handlers: the checks at each step, and the message at DATA. */
  #sessionHandlers(): Pick<
    SMTPServerOptions,
    'onConnect' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose'
  > {
    return {
      onConnect: (session, callback) => {
        const guard = this.#guardOf(session);
        const refusal = this.#checks.admit(session, guard);
        if (!refusal) guard?.wait('greeting');
        callback(refusal);
      },
      onMailFrom: (_address, session, callback) => callback(this.#checks.mailFrom(session)),
      onRcptTo: (address, session, callback) => callback(this.#checks.recipient(address.address, session)),
      onData: (stream, session, callback) => {
        this.#receiving.add(session.id);
        const guard = this.#guardOf(session);
        const refusal = () => guard?.error() ?? null;
        receiveMessage(this.#receiveContext, stream, session, refusal).then(
          (reply) => this.#finish(session, () => callback(null, reply)),
          (err: Error) => this.#finish(session, () => callback(err)),
        );
      },
      onClose: (session) => {
        this.#receiving.delete(session.id);
        this.#slots.release(session.id);
      },
    };
  }

  #guardOf(session: SMTPServerSession): InputGuard | undefined {
    const connection = this.#connections.byId(session.id);
    return connection && this.#guards.get(connection);
  }

  /** Sends the DATA reply; during shutdown the session ends right after it. */
  #finish(session: SMTPServerSession, reply: () => void): void {
    this.#receiving.delete(session.id);
    reply();
    if (this.#closing) this.#connections.byId(session.id)?.send(421, SHUTDOWN_REPLY);
  }
}

/** smtp-server's options for the ingress, without the session handlers. */
function serverOptions(options: Required<SmtpOptions>, deps: SmtpIngressDeps): SMTPServerOptions {
  const tls = deps.tls ?? null;
  const tlsOptions: SMTPServerOptions = tls
    ? { key: tls.key, cert: tls.cert, hideSTARTTLS: false }
    : // No certificate: no STARTTLS at all, so smtp-server's built-in (public) test key is never used.
      { hideSTARTTLS: true };
  return {
    name: options.hostname,
    size: options.maxMessageBytes,
    hideSize: false,
    hideENHANCEDSTATUSCODES: false,
    ...tlsOptions,
    ...(deps.submission
      ? {
          authOptional: false,
          authMethods: ['PLAIN', 'LOGIN'],
          allowInsecureAuth: false,
          authRequiredMessage: '5.7.0 Authentication required',
          disabledCommands: [],
        }
      : { authOptional: true, disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'] }),
    disableReverseLookup: true,
    socketTimeout: options.socketTimeoutMs,
    closeTimeout: options.closeTimeoutMs,
    // The guard passes on lines of at most maxCommandLineBytes; the parser's own limit is a backstop.
    maxCommandLength: options.maxCommandLineBytes,
    logger: false,
  };
}

function inputGuardOptions(options: Required<SmtpOptions>, logger: Logger): InputGuardOptions {
  return {
    maxCommandLineBytes: options.maxCommandLineBytes,
    maxBadCommands: options.maxBadCommands,
    maxPipelinedCommands: options.maxPipelinedCommands,
    timeouts: {
      greeting: options.greetingTimeoutMs,
      idle: options.socketTimeoutMs,
      mail: options.mailTimeoutMs,
      rcpt: options.rcptTimeoutMs,
      dataInitiation: options.dataInitiationTimeoutMs,
      dataBlock: options.dataBlockTimeoutMs,
    },
    logger,
  };
}

/** The options given, with the defaults for those missing (or `undefined`). */
function withDefaults(given: SmtpOptions): Required<SmtpOptions> {
  const options: Record<string, unknown> = { ...smtpDefaults };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) options[key] = value;
  return options as unknown as Required<SmtpOptions>;
}
