import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { SmtpOptions } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import { LoginLimiter } from '../submission/index.ts';
import { IngressConfigError } from './errors.ts';
import { InputGuard, type InputGuardOptions } from './input-guard.ts';
import { smtpDefaults } from './limits.ts';
import { proxyHeaderHook } from './proxy-header-hook.ts';
import { receiveMessage } from './receive-message.ts';
import { SessionChecks } from './session-checks.ts';
import { SlotKeeper } from './slot-keeper.ts';
import { adaptSmtpServer, type ClientConnection } from './smtp-server-adapter.ts';
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
  const submission = deps.submission ?? null;
  if (submission && !deps.tls) {
    throw new IngressConfigError('submission: a TLS certificate is required (STARTTLS comes before AUTH)');
  }
  /** Sessions with a DATA in progress (by session id). */
  const receiving = new Set<string>();
  let closing: Promise<void> | null = null;
  const guards = new WeakMap<ClientConnection, InputGuard>();
  const guardOptions = inputGuardOptions(options, logger);
  const slots = new SlotKeeper({ ...options, timeouts: guardOptions.timeouts }, logger);
  const checks = new SessionChecks(options, logger, slots, deps.checkRecipient);
  const receiveContext = {
    deps,
    logger,
    hostname: options.hostname,
    maxMessageBytes: options.maxMessageBytes,
    dataTerminationTimeoutMs: options.dataTerminationTimeoutMs,
  };

  const server = new SMTPServer({
    ...serverOptions(options, deps),
    ...(submission && {
      onAuth: submissionAuthHandler(submission, submission.loginLimiter ?? new LoginLimiter(), logger),
    }),
    onConnect(session, callback) {
      const guard = guardOf(session);
      const refusal = checks.admit(session, guard);
      if (!refusal) guard?.wait('greeting');
      callback(refusal);
    },
    onMailFrom(_address, session, callback) {
      callback(checks.mailFrom(session));
    },
    onRcptTo(address, session, callback) {
      callback(checks.recipient(address.address, session));
    },
    onData(stream, session, callback) {
      receiving.add(session.id);
      const guard = guardOf(session);
      const refusal = () => guard?.error() ?? null;
      receiveMessage(receiveContext, stream, session, refusal).then(
        (reply) => finish(session, () => callback(null, reply)),
        (err: Error) => finish(session, () => callback(err)),
      );
    },
    onClose(session) {
      receiving.delete(session.id);
      slots.release(session.id);
    },
  });
  const proxyProtocol = options.proxyProtocol;
  const connections = adaptSmtpServer(server, {
    onConnection(connection) {
      guards.set(connection, new InputGuard(connection, guardOptions));
      if (submission) requireStartTlsBeforeAuth(connection);
    },
    ...(proxyProtocol && {
      proxyHeader: proxyHeaderHook(proxyProtocol.trustedProxies, proxyProtocol.timeoutMs ?? 10_000, logger),
    }),
  });

  server.on('error', (err: NodeJS.ErrnoException & { remoteAddress?: string }) => {
    // Mostly clients that went away (ECONNRESET, EPIPE, timeouts); never fatal for the server.
    logger.warn('smtp connection error', {
      code: err.code,
      error: err.message,
      remoteAddress: err.remoteAddress,
    });
  });

  function guardOf(session: SMTPServerSession): InputGuard | undefined {
    const connection = connections.byId(session.id);
    return connection && guards.get(connection);
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
        for (const connection of connections.all()) {
          if (!receiving.has(connection.id)) connection.send(421, SHUTDOWN_REPLY);
        }
      });
      return closing;
    },
  };
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
