import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Envelope, Logger } from '../kernel/index.ts';
import {
  MessageRejectedError,
  MessageTooBigError,
  type SmtpReplyError,
  TemporaryFailureError,
} from './errors.ts';
import { MessageBody } from './message-body.ts';
import { receivedHeader } from './received-header.ts';
import type { SmtpIngressDeps } from './types.ts';

/** Messages up to this size are inspected whole at the end of DATA (see `SmtpIngressDeps.inspect`). */
const INSPECT_MAX_BYTES = 4 * 1024 * 1024;

/** What {@link receiveMessage} needs from the ingress. */
export interface ReceiveContext {
  deps: Pick<SmtpIngressDeps, 'accept' | 'inspect' | 'cleanHead'>;
  hostname: string;
  maxMessageBytes: number;
  /** How long storing may take after the end of DATA before we answer `451`. */
  dataTerminationTimeoutMs: number;
  logger: Logger;
  /** Counts accepted messages (logged at info once a minute; each one is a debug line). */
  accepted: { add(bytes: number): void };
}

/** One message in flight, from the start of DATA to our reply. */
interface Transfer {
  session: SMTPServerSession;
  envelope: Envelope;
  body: MessageBody;
  controller: AbortController;
  /** Why the input guard refuses the message, if it does. */
  refusal: () => SmtpReplyError | null;
}

/** How storing ended: with the id, or failed (with what it threw). */
interface StoreOutcome {
  id: string | undefined;
  failed: boolean;
  failure: unknown;
}

/**
 * Streams one message into `accept()` (through `inspect()` when there is one) and resolves with the text
 * of our `250` once it is durable; throws the {@link SmtpReplyError} to answer otherwise. The reply never
 * goes out before the client has sent the whole message.
 */
export async function receiveMessage(
  context: ReceiveContext,
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  refusal: () => SmtpReplyError | null,
): Promise<string> {
  const controller = new AbortController();
  const body = new MessageBody(stream, context.maxMessageBytes, controller, refusal);
  const envelope = toEnvelope(session);
  const queueId = `${session.id}.${session.transaction}`;
  const prefix = Buffer.from(
    receivedHeader({
      helo: envelope.helo,
      remoteAddress: session.remoteAddress,
      hostname: context.hostname,
      protocol: session.transmissionType,
      id: queueId,
      recipients: envelope.rcptTo,
    }),
    'utf8',
  );
  const transfer: Transfer = { session, envelope, body, controller, refusal };
  const outcome = await storeInTime(context, stream, transfer, () =>
    inspectThenAccept(context, { envelope, queueId, prefix, body, controller }),
  );
  // The reply may only go out once the client has sent the whole message.
  await body.drain();
  return dataReply(context, transfer, outcome);
}

/**
 * RFC 5321 §4.5.3.2.6: the client waits 10 minutes for our reply to the end of DATA. If storing takes
 * longer than `dataTerminationTimeoutMs` after it, give up (the store sees the abort) and answer `451`.
 */
async function storeInTime(
  context: ReceiveContext,
  stream: SMTPServerDataStream,
  transfer: Transfer,
  store: () => Promise<{ id: string }>,
): Promise<StoreOutcome> {
  let timer: NodeJS.Timeout | undefined;
  let expire: (err: Error) => void = () => {};
  const deadline = new Promise<never>((_resolve, reject) => {
    expire = reject;
  });
  deadline.catch(() => {});
  const startDeadline = () => {
    timer = setTimeout(() => {
      const err = new TemporaryFailureError('Timed out storing the message, try again later');
      context.logger.error('accept() did not finish in time', {
        session: transfer.session.id,
        timeoutMs: context.dataTerminationTimeoutMs,
      });
      transfer.controller.abort(err);
      expire(err);
    }, context.dataTerminationTimeoutMs);
  };
  stream.once('end', startDeadline);
  try {
    const { id } = await Promise.race([store(), deadline]);
    return { id, failed: false, failure: undefined };
  } catch (err) {
    return { id: undefined, failed: true, failure: err };
  } finally {
    clearTimeout(timer);
    stream.off('end', startDeadline);
  }
}

/** Our reply to the end of DATA: the `250` text, or the refusal thrown. */
function dataReply(context: ReceiveContext, transfer: Transfer, outcome: StoreOutcome): string {
  const { logger } = context;
  const { envelope, body, controller } = transfer;
  const { id, failed, failure } = outcome;
  const log = { session: transfer.session.id, mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo };
  const giveUp = (reason: unknown) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  // A message with a bare CR/LF/NUL or sent out of step is refused, whatever else happened to it.
  const refused = body.refused ?? (failed || !id ? transfer.refusal() : null);
  if (refused) {
    giveUp(refused);
    if (!failed && id) logger.error('accept() stored a message it should have given up', { ...log, id });
    logger.info('message refused', { ...log, reason: refused.message });
    throw refused;
  }
  if (body.tooBig) {
    if (!failed) logger.error('accept() took a message over the size limit', { ...log, id });
    logger.info('message refused: too big', { ...log, limit: context.maxMessageBytes });
    throw failure instanceof MessageTooBigError
      ? failure
      : new MessageTooBigError(context.maxMessageBytes, { cause: failure });
  }
  if (failure instanceof MessageRejectedError) {
    giveUp(failure);
    logger.info('message refused', { ...log, reason: failure.message });
    throw failure;
  }
  if (failed || !id) {
    giveUp(failure);
    logger.error('message not stored', { ...log, error: String(failure) });
    if (failure instanceof TemporaryFailureError) throw failure;
    throw new TemporaryFailureError('Could not store the message, try again later', { cause: failure });
  }
  if (!body.complete) {
    logger.error('accept() resolved before reading the whole message', { ...log, id });
    throw new TemporaryFailureError('Could not store the message, try again later');
  }
  context.accepted.add(body.bytesReceived);
  logger.debug('message accepted', { ...log, id, size: body.bytesReceived });
  return `2.0.0 Ok: queued as ${id}`;
}

/**
 * Without `deps.inspect`, streams the message into `accept()`. With it, gathers up to 4 MiB first: a
 * complete message is inspected (and may be refused, get trace headers in front, or a cleaned body; a
 * check that could not finish leaves the verdicts to processing); a bigger one streams on uninspected,
 * with only its header block cleaned by `deps.cleanHead`.
 */
async function inspectThenAccept(
  context: ReceiveContext,
  input: {
    envelope: Envelope;
    queueId: string;
    prefix: Buffer;
    body: MessageBody;
    controller: AbortController;
  },
): Promise<{ id: string }> {
  const { deps, logger } = context;
  const { envelope, queueId, prefix, body, controller } = input;
  // The signal is made only if `accept()` asks for it (most never do; an AbortSignal is not cheap).
  const accept = (fields: Omit<Parameters<SmtpIngressDeps['accept']>[0], 'signal'>) =>
    deps.accept({
      ...fields,
      get signal() {
        return controller.signal;
      },
    });
  if (!deps.inspect) return accept({ envelope, prefix, body });
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
      return accept({ envelope, prefix: front, body: once(result.body ?? raw), ...auth });
    }
    head.push(next.value);
    size += next.value.length;
  }
  const start = deps.cleanHead ? [deps.cleanHead(Buffer.concat(head, size))] : head;
  return accept({ envelope, prefix, body: resume(start, iterator) });
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
