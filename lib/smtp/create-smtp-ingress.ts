import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Envelope, Logger } from '../actions/types.ts';
import { ConnectionRegistry } from './connection-registry.ts';
import {
  MessageTooBigError,
  RecipientRejectedError,
  TemporaryFailureError,
  TooManyRecipientsError,
} from './errors.ts';
import { MessageBody } from './message-body.ts';
import { receivedHeader } from './received-header.ts';
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
 */
export function createSmtpIngress(deps: SmtpIngressDeps): SmtpIngress {
  const { options } = deps;
  const logger = deps.logger ?? noLogger;
  /** Sessions with a DATA in progress (by session id). */
  const receiving = new Set<string>();
  let closing: Promise<void> | null = null;

  const server = new SMTPServer({
    name: options.hostname,
    size: options.maxMessageBytes,
    hideSize: false,
    hideENHANCEDSTATUSCODES: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    socketTimeout: options.socketTimeoutMs,
    closeTimeout: options.closeTimeoutMs,
    logger: false,
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
    },
  });
  const connections = new ConnectionRegistry();
  server.connections = connections;

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
    const body = new MessageBody(stream, options.maxMessageBytes, controller);
    const envelope = toEnvelope(session);
    const prefix = Buffer.from(
      receivedHeader({
        helo: envelope.helo,
        remoteAddress: session.remoteAddress,
        hostname: options.hostname,
        protocol: session.transmissionType,
        id: `${session.id}.${session.transaction}`,
        recipients: envelope.rcptTo,
      }),
      'utf8',
    );

    let id: string | undefined;
    let failed = false;
    let failure: unknown;
    try {
      ({ id } = await deps.accept({ envelope, prefix, body, signal: controller.signal }));
    } catch (err) {
      failed = true;
      failure = err;
    }
    // The reply may only go out once the client has sent the whole message.
    await body.drain();

    const log = { session: session.id, mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo };
    if (body.tooBig) {
      if (!failed) logger.error('accept() took a message over the size limit', { ...log, id });
      logger.info('message refused: too big', { ...log, limit: options.maxMessageBytes });
      throw failure instanceof MessageTooBigError
        ? failure
        : new MessageTooBigError(options.maxMessageBytes, { cause: failure });
    }
    if (failed || !id) {
      if (!controller.signal.aborted) controller.abort(failure);
      logger.error('message not stored', { ...log, error: String(failure) });
      throw new TemporaryFailureError('Could not store the message, try again later', { cause: failure });
    }
    if (!body.complete) {
      logger.error('accept() resolved before reading the whole message', { ...log, id });
      throw new TemporaryFailureError('Could not store the message, try again later');
    }
    logger.info('message accepted', { ...log, id, size: body.bytesReceived });
    return `2.0.0 Ok: queued as ${id}`;
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
