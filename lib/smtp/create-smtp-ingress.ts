import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import type { SmtpOptions } from '../config/types.ts';
import type { Envelope, Logger } from '../kernel/index.ts';
import { LoginLimiter } from '../submission/login-limiter.ts';
import { verifyPassword } from '../submission/password-hash.ts';
import { ConnectionRegistry, type SmtpConnection } from './connection-registry.ts';
import {
  LimitError,
  MessageRejectedError,
  MessageTooBigError,
  RecipientRejectedError,
  SmtpReplyError,
  TemporaryFailureError,
  TooManyRecipientsError,
} from './errors.ts';
import { InputGuard } from './input-guard.ts';
import { addressMatcher, clientKey, smtpDefaults, WindowCounter } from './limits.ts';
import { MessageBody } from './message-body.ts';
import { type ProxyHeader, readProxyHeader } from './proxy-protocol.ts';
import { receivedHeader } from './received-header.ts';
import { SlotKeeper } from './slot-keeper.ts';
import type { SmtpIngress, SmtpIngressDeps } from './types.ts';

const SHUTDOWN_REPLY = '4.3.2 Server shutting down';

const noLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A well-formed hash of no one's password, checked when the user name is unknown so that a wrong user
 * takes as long to refuse as a wrong password.
 */
const UNKNOWN_USER_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/**
 * The SMTP ingress: an smtp-server that refuses unroutable recipients at RCPT time, streams each message
 * into `accept()` and answers `250` only once `accept()` says the message is durable.
 *
 * Replies: `550 …` (the router's verdict) at RCPT, `452 4.5.3` past `maxRecipients`, `552 5.3.4` for a
 * message over `maxMessageBytes` (at MAIL FROM when `SIZE=` says so, else at the end of DATA),
 * `451 4.3.0` when `accept()` fails, `250 2.0.0 Ok: queued as <id>` on success.
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
  const options = withDefaults(deps.options);
  const logger = deps.logger ?? noLogger;
  const tls = deps.tls ?? null;
  const submission = deps.submission ?? null;
  if (submission && !tls) {
    throw new Error('submission: a TLS certificate is required (STARTTLS comes before AUTH)');
  }
  const loginLimiter = submission?.loginLimiter ?? new LoginLimiter();
  const proxyProtocol = options.proxyProtocol;
  const trustedProxy = proxyProtocol ? addressMatcher(proxyProtocol.trustedProxies) : () => false;
  /** Sessions with a DATA in progress (by session id). */
  const receiving = new Set<string>();
  let closing: Promise<void> | null = null;
  const guards = new WeakMap<SmtpConnection, InputGuard>();
  const exempt = addressMatcher(options.limitExemptIps);
  const connectionRate = new WindowCounter(options.rateWindowMs);
  const messageRate = new WindowCounter(options.rateWindowMs);
  const timeouts = {
    greeting: options.greetingTimeoutMs,
    idle: options.socketTimeoutMs,
    mail: options.mailTimeoutMs,
    rcpt: options.rcptTimeoutMs,
    dataInitiation: options.dataInitiationTimeoutMs,
    dataBlock: options.dataBlockTimeoutMs,
  };
  const guardOptions = {
    maxCommandLineBytes: options.maxCommandLineBytes,
    maxBadCommands: options.maxBadCommands,
    maxPipelinedCommands: options.maxPipelinedCommands,
    timeouts,
    logger,
  };
  const slots = new SlotKeeper(
    {
      maxClients: options.maxClients,
      maxClientsPerIp: options.maxClientsPerIp,
      maxClientsPerNetwork: options.maxClientsPerNetwork,
      maxSessionMs: options.maxSessionMs,
      minDataRateBytesPerSecond: options.minDataRateBytesPerSecond,
      dataRateGraceMs: options.dataRateGraceMs,
      evictIdleAfterMs: options.evictIdleAfterMs,
      timeouts,
    },
    logger,
  );

  const tlsOptions: SMTPServerOptions = tls
    ? { key: tls.key, cert: tls.cert, hideSTARTTLS: false }
    : // No certificate: no STARTTLS at all, so smtp-server's built-in (public) test key is never used.
      { hideSTARTTLS: true };
  const server = new SMTPServer({
    name: options.hostname,
    size: options.maxMessageBytes,
    hideSize: false,
    hideENHANCEDSTATUSCODES: false,
    ...tlsOptions,
    ...(submission
      ? {
          authOptional: false,
          authMethods: ['PLAIN', 'LOGIN'],
          allowInsecureAuth: false,
          authRequiredMessage: '5.7.0 Authentication required',
          disabledCommands: [],
          onAuth,
        }
      : { authOptional: true, disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'] }),
    disableReverseLookup: true,
    socketTimeout: options.socketTimeoutMs,
    closeTimeout: options.closeTimeoutMs,
    // The guard passes on lines of at most maxCommandLineBytes; the parser's own limit is a backstop.
    maxCommandLength: options.maxCommandLineBytes,
    logger: false,
    onConnect(session, callback) {
      const refusal = admit(session);
      if (!refusal) guardOf(session)?.wait('greeting');
      callback(refusal);
    },
    onMailFrom(_address, session, callback) {
      const address = session.remoteAddress;
      if (
        options.messageRatePerIp > 0 &&
        !exempt(address) &&
        messageRate.hit(clientKey(address)) > options.messageRatePerIp
      ) {
        logger.info('smtp message rate limit', { session: session.id, remoteAddress: address });
        return callback(
          new LimitError(
            'messageRatePerIp',
            450,
            '4.7.1 Too many messages from your address, try again later',
          ),
        );
      }
      callback();
    },
    onRcptTo(address, session, callback) {
      callback(checkRecipient(address.address, session));
    },
    onData(stream, session, callback) {
      receiving.add(session.id);
      receive(stream, session).then(
        (reply) => finish(session, () => callback(null, reply)),
        (err: Error) => finish(session, () => callback(err)),
      );
    },
    onClose(session) {
      receiving.delete(session.id);
      slots.release(session.id);
    },
  });
  const connections = new ConnectionRegistry((connection) => {
    guards.set(connection, new InputGuard(connection, guardOptions));
    if (submission) adjustSubmissionReplies(connection);
  });
  server.connections = connections;
  if (proxyProtocol) acceptProxyHeaders(proxyProtocol.timeoutMs ?? 10_000);

  /**
   * Submission: AUTH is not advertised before STARTTLS, and AUTH before it gets the RFC 3207 reply
   * `530 5.7.0` (smtp-server's own is a non-standard `538`).
   */
  function adjustSubmissionReplies(connection: SmtpConnection): void {
    const send = connection.send;
    connection.send = (code, data, context) => {
      if (code === 538) {
        return send.call(connection, 530, '5.7.0 Must issue a STARTTLS command first', context);
      }
      if (code === 250 && Array.isArray(data) && !connection.secure) {
        return send.call(
          connection,
          code,
          data.filter((line) => !/^AUTH\b/i.test(String(line))),
          context,
        );
      }
      return send.call(connection, code, data, context);
    };
  }

  /**
   * PROXY protocol: a socket from a trusted proxy reaches smtp-server only once its header is read, with
   * the client's address in place of the proxy's. Everyone else goes straight on; a PROXY header from
   * them is refused by the {@link InputGuard}.
   */
  function acceptProxyHeaders(timeoutMs: number): void {
    type ProxyCallback = (err: Error | null, socketOptions?: Record<string, unknown>) => void;
    const internals = server as unknown as {
      _expectsProxyHeader(socket: Socket): boolean;
      _handleProxy(socket: Socket, callback: ProxyCallback): void;
    };
    const passThrough = internals._handleProxy.bind(server);
    internals._expectsProxyHeader = (socket) => trustedProxy(socket.remoteAddress ?? '');
    internals._handleProxy = (socket, callback) => {
      if (!trustedProxy(socket.remoteAddress ?? '')) return passThrough(socket, callback);
      const proxy = socket.remoteAddress;
      readProxyHeader(socket, timeoutMs).then(
        (header: ProxyHeader) => {
          const id = BigInt(`0x${randomBytes(10).toString('hex')}`)
            .toString(32)
            .padStart(16, '0');
          logger.debug('smtp PROXY header', { proxy, version: header.version, client: header.client });
          callback(null, {
            id,
            remoteAddress: header.client?.address ?? socket.remoteAddress,
            remotePort: header.client?.port ?? socket.remotePort,
          });
        },
        (err: Error) => {
          logger.info('smtp PROXY header refused', { proxy, error: err.message });
          socket.on('error', () => {});
          if (err instanceof SmtpReplyError && socket.writable) {
            socket.end(`${err.responseCode} ${err.message}\r\n`);
            setTimeout(() => socket.destroy(), 1000).unref();
          } else {
            socket.destroy();
          }
          callback(err);
        },
      );
    };
  }

  /** AUTH PLAIN/LOGIN on the submission listener: scrypt hashes from config, failures limited per IP. */
  function onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void {
    const users = submission?.users ?? {};
    const key = clientKey(session.remoteAddress);
    const username = auth.username ?? '';
    const log = { session: session.id, remoteAddress: session.remoteAddress, username, method: auth.method };
    const refused = loginLimiter.begin(key);
    if (refused === 'address') {
      logger.warn('submission login refused: too many failed logins', log);
      callback(new SmtpReplyError(454, '4.7.0 Too many failed logins, try again later'));
      return;
    }
    if (refused === 'busy') {
      logger.warn('submission login refused: too many password checks at once', log);
      callback(new SmtpReplyError(454, '4.7.0 Temporary authentication failure, try again later'));
      return;
    }
    const hash = Object.hasOwn(users, username) ? users[username] : undefined;
    verifyPassword(auth.password ?? '', hash ?? UNKNOWN_USER_HASH).then(
      (ok) => {
        if (ok && hash !== undefined) {
          loginLimiter.succeed(key);
          logger.info('submission login', log);
          callback(null, { user: username });
          return;
        }
        loginLimiter.fail(key);
        logger.warn('submission login failed', log);
        callback(new SmtpReplyError(535, '5.7.8 Authentication credentials invalid'));
      },
      (err: unknown) => {
        loginLimiter.fail(key);
        logger.error('submission login check failed', { ...log, error: String(err) });
        callback(new SmtpReplyError(454, '4.7.0 Temporary authentication failure'));
      },
    );
  }

  function guardOf(session: SMTPServerSession): InputGuard | undefined {
    const connection = connections.byId(session.id);
    return connection && guards.get(connection);
  }

  /** Connection limits, checked before the greeting; a refusal is sent instead of it. */
  function admit(session: SMTPServerSession): LimitError | null {
    const address = session.remoteAddress;
    const refuse = (limit: LimitError['limit'], text: string) => {
      logger.info('smtp connection refused', { session: session.id, remoteAddress: address, limit });
      return new LimitError(limit, 421, `4.7.0 ${options.hostname} ${text}, try again later`);
    };
    const isExempt = exempt(address);
    const key = clientKey(address);
    if (
      !isExempt &&
      options.connectionRatePerIp > 0 &&
      connectionRate.hit(key) > options.connectionRatePerIp
    ) {
      return refuse('connectionRatePerIp', 'Too many connections from your address');
    }
    const guard = guardOf(session);
    if (!guard) return refuse('maxClients', 'Too many connections');
    const refusal = slots.admit({ id: session.id, remoteAddress: address, guard, exempt: isExempt });
    if (refusal === 'maxClients') return refuse('maxClients', 'Too many connections');
    if (refusal === 'maxClientsPerNetwork') return refuse(refusal, 'Too many connections from your network');
    if (refusal) return refuse(refusal, 'Too many connections from your address');
    return null;
  }

  server.on('error', (err: NodeJS.ErrnoException & { remoteAddress?: string }) => {
    // Mostly clients that went away (ECONNRESET, EPIPE, timeouts); never fatal for the server.
    logger.warn('smtp connection error', {
      code: err.code,
      error: err.message,
      remoteAddress: err.remoteAddress,
    });
  });

  function checkRecipient(rcpt: string, session: SMTPServerSession): Error | null {
    const envelope = session.envelope;
    const key = rcpt.toLowerCase();
    if (
      envelope.rcptTo.length >= options.maxRecipients &&
      !envelope.rcptTo.some((r) => r.address.toLowerCase() === key)
    ) {
      return new TooManyRecipientsError(options.maxRecipients);
    }
    const mailFrom = envelope.mailFrom ? envelope.mailFrom.address : '';
    try {
      const verdict = deps.checkRecipient(rcpt, { mailFrom });
      if (verdict.accepted) return null;
      logger.info('recipient refused', { session: session.id, mailFrom, rcpt, code: verdict.code });
      return new RecipientRejectedError(rcpt, verdict.code, verdict.message);
    } catch (err) {
      logger.error('recipient check failed', { session: session.id, rcpt, error: String(err) });
      return new TemporaryFailureError('Cannot check the recipient now, try again later', { cause: err });
    }
  }

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const controller = new AbortController();
    const guard = guardOf(session);
    const refusal = () => guard?.error() ?? null;
    const body = new MessageBody(stream, options.maxMessageBytes, controller, refusal);
    const envelope = toEnvelope(session);
    const queueId = `${session.id}.${session.transaction}`;
    const prefix = Buffer.from(
      receivedHeader({
        helo: envelope.helo,
        remoteAddress: session.remoteAddress,
        hostname: options.hostname,
        protocol: session.transmissionType,
        id: queueId,
        recipients: envelope.rcptTo,
      }),
      'utf8',
    );

    // RFC 5321 §4.5.3.2.6: the client waits 10 minutes for our reply to the end of DATA. If storing takes
    // longer than dataTerminationTimeoutMs, give up (the store sees the abort) and answer 451.
    let timer: NodeJS.Timeout | undefined;
    let expire: (err: Error) => void = () => {};
    const deadline = new Promise<never>((_resolve, reject) => {
      expire = reject;
    });
    deadline.catch(() => {});
    const startDeadline = () => {
      timer = setTimeout(() => {
        const err = new TemporaryFailureError('Timed out storing the message, try again later');
        logger.error('accept() did not finish in time', {
          session: session.id,
          timeoutMs: options.dataTerminationTimeoutMs,
        });
        controller.abort(err);
        expire(err);
      }, options.dataTerminationTimeoutMs);
    };
    stream.once('end', startDeadline);

    let id: string | undefined;
    let failed = false;
    let failure: unknown;
    try {
      ({ id } = await Promise.race([
        inspectThenAccept(envelope, queueId, prefix, body, controller.signal),
        deadline,
      ]));
    } catch (err) {
      failed = true;
      failure = err;
    } finally {
      clearTimeout(timer);
      stream.off('end', startDeadline);
    }
    // The reply may only go out once the client has sent the whole message.
    await body.drain();

    const log = { session: session.id, mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo };
    // A message with a bare CR/LF/NUL or sent out of step is refused, whatever else happened to it.
    const refused = body.refused ?? (failed || !id ? refusal() : null);
    if (refused) {
      if (!controller.signal.aborted) controller.abort(refused);
      if (!failed && id) logger.error('accept() stored a message it should have given up', { ...log, id });
      logger.info('message refused', { ...log, reason: refused.message });
      throw refused;
    }
    if (body.tooBig) {
      if (!failed) logger.error('accept() took a message over the size limit', { ...log, id });
      logger.info('message refused: too big', { ...log, limit: options.maxMessageBytes });
      throw failure instanceof MessageTooBigError
        ? failure
        : new MessageTooBigError(options.maxMessageBytes, { cause: failure });
    }
    if (failure instanceof MessageRejectedError) {
      if (!controller.signal.aborted) controller.abort(failure);
      logger.info('message refused', { ...log, reason: failure.message });
      throw failure;
    }
    if (failed || !id) {
      if (!controller.signal.aborted) controller.abort(failure);
      logger.error('message not stored', { ...log, error: String(failure) });
      if (failure instanceof TemporaryFailureError) throw failure;
      throw new TemporaryFailureError('Could not store the message, try again later', { cause: failure });
    }
    if (!body.complete) {
      logger.error('accept() resolved before reading the whole message', { ...log, id });
      throw new TemporaryFailureError('Could not store the message, try again later');
    }
    logger.info('message accepted', { ...log, id, size: body.bytesReceived });
    return `2.0.0 Ok: queued as ${id}`;
  }

  /**
   * Without `deps.inspect`, streams the message into `accept()`. With it, gathers up to 4 MiB first: a
   * complete message is inspected (and may be refused, get trace headers in front, or a cleaned body; a
   * check that could not finish leaves the verdicts to processing); a bigger one streams on uninspected,
   * with only its header block cleaned by `deps.cleanHead`.
   */
  async function inspectThenAccept(
    envelope: Envelope,
    queueId: string,
    prefix: Buffer,
    body: MessageBody,
    signal: AbortSignal,
  ): Promise<{ id: string }> {
    if (!deps.inspect) return deps.accept({ envelope, prefix, body, signal });
    const iterator = body[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let size = 0;
    while (size <= INSPECT_MAX_BYTES) {
      const next = await iterator.next();
      if (next.done) {
        const raw = Buffer.concat(head, size);
        const result = await deps.inspect({ envelope, raw, queueId });
        if (result.reject) throw new MessageRejectedError(result.reject.code, result.reject.message);
        if (result.deferred) {
          logger.warn('end-of-DATA check did not finish; processing will authenticate', {
            mailFrom: envelope.mailFrom,
            reason: result.reason,
          });
        }
        const front = result.prefix ? Buffer.concat([Buffer.from(result.prefix, 'utf8'), prefix]) : prefix;
        const auth = result.auth ? { auth: result.auth } : {};
        return deps.accept({ envelope, prefix: front, body: once(result.body ?? raw), signal, ...auth });
      }
      head.push(next.value);
      size += next.value.length;
    }
    const start = deps.cleanHead ? [deps.cleanHead(Buffer.concat(head, size))] : head;
    return deps.accept({ envelope, prefix, body: resume(start, iterator), signal });
  }

  /** Sends the DATA reply; during shutdown the session ends right after it. */
  function finish(session: SMTPServerSession, reply: () => void): void {
    receiving.delete(session.id);
    reply();
    if (closing) connections.byId(session.id)?.send(421, SHUTDOWN_REPLY);
  }

  return {
    server,
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.server.once('error', onError);
        server.listen(options.port, options.host, () => {
          server.server.off('error', onError);
          resolve({ port: (server.server.address() as AddressInfo).port });
        });
      });
    },
    close() {
      slots.close();
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // smtp-server would keep idle sessions until closeTimeout; only a DATA in progress may finish.
        for (const connection of [...connections]) {
          if (!receiving.has(connection.id)) connection.send(421, SHUTDOWN_REPLY);
        }
      });
      return closing;
    },
  };
}

function toEnvelope(session: SMTPServerSession): Envelope {
  const envelope: Envelope = {
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    remoteAddress: session.remoteAddress,
  };
  if (session.hostNameAppearsAs) envelope.helo = session.hostNameAppearsAs;
  return envelope;
}

/** The options given, with the defaults for those missing (or `undefined`). */
function withDefaults(given: SmtpOptions): Required<SmtpOptions> {
  const options: Record<string, unknown> = { ...smtpDefaults };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) options[key] = value;
  return options as unknown as Required<SmtpOptions>;
}

/** Messages up to this size are inspected whole at the end of DATA (see `SmtpIngressDeps.inspect`). */
const INSPECT_MAX_BYTES = 4 * 1024 * 1024;

async function* once(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk;
}

async function* resume(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  while (true) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}
