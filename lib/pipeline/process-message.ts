import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import { errorText, isRetryable } from '../kernel/index.ts';
import { type ParsedMessage, parseMessage } from '../message/index.ts';
import type { RecipientDecision } from '../routing/index.ts';
import type { DeliveryRecord, MessageStatus } from '../store/index.ts';
import {
  type AttachmentTally,
  attachmentExtraction,
  describeTally,
  linkAttachments,
} from './attachment-extraction.ts';
import { authenticateStep } from './authenticate-step.ts';
import { type DeliveryContext, deliver } from './deliver.ts';
import { planDeliveries } from './plan-deliveries.ts';
import { type ProcessingPorts, trace } from './ports.ts';
import { uniqueRecipients } from './recipients.ts';
import { recordPlan } from './record-plan.ts';
import { RunTraces } from './run-traces.ts';
import { RunWrites } from './run-writes.ts';

/** One message to process, with its bytes in hand. */
export interface MessageInput {
  id: string;
  /** The stored bytes (trace headers included). */
  raw: Buffer;
  /** The SMTP envelope as recorded. */
  envelope: Envelope;
  /** Verdicts stored or given by the ingress; null: computed now. */
  auth: AuthVerdicts | null;
  /** When the message was received (ISO 8601): reply tokens are checked against it. */
  receivedAt: string;
  /**
   * Replay of one delivery (its idempotency key): only it runs, again whatever its status; the message's
   * other deliveries stay as they are. @default every planned delivery not yet delivered or dropped
   */
  only?: string;
}

/** What became of a message. */
export interface ProcessOutcome {
  id: string;
  /** `processing`: deliveries were left pending (the driver closed), or the outcome could not be recorded. */
  status: MessageStatus;
  /** The deliveries this run planned, in their final state. */
  deliveries: DeliveryRecord[];
  /** Null when parsing did not get that far. */
  message: ParsedMessage | null;
  /** Why the message failed. */
  error?: string;
  /**
   * For a failed message: whether running it again may help (false when every failure was permanent: a
   * webhook 4xx, a missing port, a bad outbound config; the message waits for a fix and a replay).
   */
  retryable?: boolean;
  /** True when the store refused to record the outcome: the driver should run the message again. */
  unrecorded?: boolean;
}

async function parseStep(
  ports: ProcessingPorts,
  input: MessageInput,
  traces: RunTraces,
  writes: RunWrites,
): Promise<ParsedMessage> {
  const { id, raw } = input;
  const tally: AttachmentTally = { stored: 0, created: 0, bytes: 0 };
  const extraction = attachmentExtraction(ports, tally);
  const message = await parseMessage(raw, ports.config.parse, extraction ? { attachments: extraction } : {});
  linkAttachments(id, message);
  await writes.add(async () => {
    const { threadId } = await ports.store.saveParsed(id, message);
    message.thread = { id: threadId }; // the store may file it in a thread it already holds
  });
  const problems = message.problems.length ? `; problems: ${message.problems.join('; ')}` : '';
  await traces.add(
    'parsed',
    `${raw.length} bytes, subject ${JSON.stringify(message.subject ?? '')}${problems}`,
  );
  if (extraction && message.attachments.length > 0) {
    await traces.add('attachments', describeTally(message, tally));
  }
  return message;
}

async function routeStep(
  ports: ProcessingPorts,
  input: MessageInput,
  message: ParsedMessage,
  auth: AuthVerdicts,
  traces: RunTraces,
): Promise<RecipientDecision[]> {
  const routingInput = {
    mailFrom: input.envelope.mailFrom,
    message: { from: message.from, subject: message.subject, headers: message.headers },
    auth,
    // Reply tokens are checked against the arrival time, so a backlog or a replay refuses nothing that
    // RCPT accepted.
    receivedAt: new Date(input.receivedAt),
  };
  const decisions = uniqueRecipients(input.envelope.rcptTo).map((rcpt) =>
    ports.router.decide(rcpt, routingInput),
  );
  for (const decision of decisions) {
    if (decision.matches.length > 0) {
      const routes = decision.matches.map((m) => m.route).join(', ');
      await traces.add('routed', `${decision.recipient} → ${routes}`);
    } else {
      const why = decision.rejected ? `${decision.rejected.code} ${decision.rejected.message}` : 'no route';
      await traces.add('unrouted', `${decision.recipient}: ${why}`);
    }
  }
  return decisions;
}

/** Records the message as failed; when the store refuses, says so in the outcome instead. */
export async function recordFailure(
  ports: ProcessingPorts,
  id: string,
  error: string,
  partial: Omit<ProcessOutcome, 'id' | 'status' | 'error'> = {
    deliveries: [],
    message: null,
    retryable: true,
  },
): Promise<ProcessOutcome> {
  try {
    await ports.store.setStatus(id, 'failed');
  } catch (err) {
    ports.logger.error('could not record message failure; retrying the message', {
      id,
      error: errorText(err),
    });
    return { ...partial, id, status: 'processing', error, unrecorded: true };
  }
  await trace(ports, id, 'failed', error);
  ports.emit({ type: 'message.failed', id, at: ports.now().toISOString(), error });
  return { ...partial, id, status: 'failed', error };
}

async function finish(
  ports: ProcessingPorts,
  ctx: DeliveryContext,
  finals: DeliveryRecord[],
  retryable: boolean,
): Promise<ProcessOutcome> {
  const { id, message, traces, writes } = ctx;
  const outcome = { deliveries: finals, message, retryable };
  // Closing: the pending deliveries are resumed on the next start (or the next SQS delivery).
  if (finals.some((d) => d.status === 'pending')) return { ...outcome, id, status: 'processing' };
  const failed = finals.filter((d) => d.status === 'failed').length;
  if (failed > 0) return recordFailure(ports, id, `${failed} of ${finals.length} deliveries failed`, outcome);
  // With the deliveries' relaxed outcomes (see `deliver`), in one commit: a failure fails the message.
  await writes.add(() => ports.store.setStatus(id, 'processed'));
  await traces.add('processed', `${finals.length} deliveries`);
  await writes.settled();
  ports.emit({ type: 'message.processed', id, at: ports.now().toISOString() });
  return { ...outcome, id, status: 'processed' };
}

/**
 * The processing core, shared by the local work queue and the Lambda: parse → authenticate (unless the
 * verdicts are given) → route → run the deliveries (idempotent, retried with backoff when the error allows)
 * → record the outcome, trace and events. The message is recorded as received before. Never throws: a
 * processing error fails the message (or, when even that cannot be recorded, comes back `unrecorded`).
 */
export async function processMessage(input: MessageInput, ports: ProcessingPorts): Promise<ProcessOutcome> {
  const { id } = input;
  const writes = new RunWrites(ports.store);
  const traces = new RunTraces(ports, id, writes);
  let message: ParsedMessage | null = null;
  try {
    await writes.add(() => ports.store.setStatus(id, 'processing'));
    message = await parseStep(ports, input, traces, writes);
    const auth = await authenticateStep(ports, id, input, traces, writes);
    const decisions = await routeStep(ports, input, message, auth, traces);
    writes.issue(); // the run's writes so far, with its plan
    const { work, finals } = await recordPlan(ports, id, planDeliveries(id, decisions), input.only);
    await writes.settled(); // before any delivery runs: a write that failed fails the message
    const ctx: DeliveryContext = {
      id,
      envelope: input.envelope,
      message,
      auth,
      raw: input.raw,
      traces,
      writes,
    };
    const permanent = await Promise.all(work.map((w) => deliver(ports, w.record, w.planned, ctx)));
    const retryable = work.some((w, i) => w.record.status === 'failed' && !permanent[i]);
    return await finish(ports, ctx, finals, retryable);
  } catch (err) {
    ports.logger.error('processing failed', { id, error: errorText(err) });
    await writes.drained(); // before the failure, which must land after them
    const partial = { deliveries: [], message, retryable: isRetryable(err) };
    return await recordFailure(ports, id, `processing error: ${errorText(err)}`, partial);
  } finally {
    await traces.settled();
  }
}
