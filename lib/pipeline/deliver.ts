import { actionTarget, effectInStore, runAction } from '../actions/index.ts';
import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import { errorText, isRetryable, MailroomError } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';
import type { DeliveryRecord } from '../store/index.ts';
import { attachmentAccess } from './attachment-extraction.ts';
import { backoffDelay, sleep } from './backoff.ts';
import type { DeliveryEventData } from './events.ts';
import type { PlannedDelivery } from './plan-deliveries.ts';
import { type ProcessingPorts, trace } from './ports.ts';
import type { RunTraces } from './run-traces.ts';
import type { RunWrites } from './run-writes.ts';

/** What every delivery of one message runs with. */
export interface DeliveryContext {
  id: string;
  envelope: Envelope;
  message: ParsedMessage;
  auth: AuthVerdicts;
  raw: Buffer;
  /** The run's trace entries. */
  traces: RunTraces;
  /** The run's writes: a relaxed outcome rides with the run's next one (see {@link deliver}). */
  writes: RunWrites;
}

/** `mailbox support for a@x, b@x`, `webhook https://… for a@x`: a delivery in trace entries. */
export function describeDelivery(d: DeliveryRecord): string {
  const what =
    d.action === 'mailbox' ? `mailbox ${d.mailbox}` : d.target ? `${d.action} ${d.target}` : d.action;
  return `${what} for ${d.recipients.join(', ')}`;
}

/** What a delivery looks like in the pipeline's events. */
function deliveryEventData(d: DeliveryRecord): DeliveryEventData {
  const delivery: DeliveryEventData = {
    key: d.key,
    recipient: d.recipient,
    recipients: d.recipients,
    route: d.route,
    action: d.action,
    status: d.status,
    attempts: d.attempts,
  };
  if (d.mailbox !== undefined) delivery.mailbox = d.mailbox;
  if (d.error !== undefined) delivery.error = d.error;
  return delivery;
}

/**
 * Stores the delivery's new state and announces it as `delivery.updated` (with `retryable` when it records
 * a `failure`). `relaxed`: a re-run redoes what the record says without a duplicate (see
 * `MessageStore.putDelivery`).
 */
export async function putDelivery(
  ports: ProcessingPorts,
  d: DeliveryRecord,
  options: { failure?: { retryable: boolean }; relaxed?: boolean } = {},
): Promise<void> {
  d.updatedAt = ports.now().toISOString();
  await ports.store.putDelivery(d, { relaxed: options.relaxed === true });
  announceDelivery(ports, d, options.failure);
}

/** Announces the delivery's new state, once stored, as `delivery.updated`. */
export function announceDelivery(
  ports: ProcessingPorts,
  d: DeliveryRecord,
  failure?: { retryable: boolean },
): void {
  const delivery = deliveryEventData(d);
  if (failure !== undefined) delivery.retryable = failure.retryable;
  ports.emit({ type: 'delivery.updated', id: d.messageId, at: d.updatedAt, delivery });
}

/** The record of a planned delivery, keeping the attempts (and last error) of an earlier run. */
export function deliveryRecord(
  id: string,
  planned: PlannedDelivery,
  existing: DeliveryRecord | null,
): DeliveryRecord {
  const d: DeliveryRecord = {
    key: planned.key,
    messageId: id,
    recipient: planned.recipients[0] ?? '',
    recipients: planned.recipients,
    route: planned.route,
    action: planned.kind,
    params: planned.params,
    status: planned.kind === 'none' ? 'unrouted' : planned.kind === 'reject' ? 'rejected' : 'pending',
    attempts: existing?.attempts ?? 0,
    updatedAt: '',
  };
  const target = planned.action ? actionTarget(planned.action) : undefined;
  if (target !== undefined && planned.kind !== 'mailbox') d.target = target;
  if (planned.action?.kind === 'mailbox') d.mailbox = planned.action.mailbox;
  if (planned.reason !== undefined) d.error = planned.reason;
  else if (existing?.error !== undefined) d.error = existing.error;
  return d;
}

/** Runs the action once. */
async function tryOnce(
  ports: ProcessingPorts,
  d: DeliveryRecord,
  planned: PlannedDelivery,
  ctx: DeliveryContext,
) {
  if (!planned.action) throw new MailroomError('nothing to run', { retryable: false });
  return runAction(planned.action, {
    ...ports.actions,
    messageId: ctx.id,
    envelope: ctx.envelope,
    recipient: d.recipient,
    recipients: d.recipients,
    message: ctx.message,
    auth: ctx.auth,
    params: d.params,
    raw: ctx.raw,
    route: d.route,
    idempotencyKey: d.key,
    attempt: d.attempts,
    store: ports.store,
    logger: ports.logger,
    now: ports.now,
    signal: ports.signal,
    attachments: attachmentAccess(ports),
  });
}

/** Records a try that failed for good: `failed`, kept for a replay. Returns whether the failure was permanent. */
async function giveUp(
  ports: ProcessingPorts,
  d: DeliveryRecord,
  id: string,
  retryable: boolean,
  took = '',
): Promise<boolean> {
  d.status = 'failed';
  await putDelivery(ports, d, { failure: { retryable } });
  const why = retryable
    ? `gave up after attempt ${d.attempts}`
    : `permanent failure at attempt ${d.attempts}`;
  await trace(ports, id, 'delivery failed', `${describeDelivery(d)}: ${why}: ${d.error}${took}`);
  ports.logger.error('delivery failed', { id, delivery: d.key, attempts: d.attempts, error: d.error });
  const delivery = deliveryEventData(d);
  ports.emit({ type: 'delivery.failed', id, at: d.updatedAt, delivery, permanent: !retryable });
  return !retryable;
}

/**
 * Hands a transient failure to the driver's retries (when it has them): the delivery stays `pending`
 * until its next attempt. Returns false when there are none, or the retry window is over.
 */
async function rescheduled(ports: ProcessingPorts, d: DeliveryRecord, id: string): Promise<boolean> {
  const next = ports.retries ? await ports.retries.reschedule(d) : null;
  if (!next) return false;
  d.status = 'pending';
  await putDelivery(ports, d);
  const detail = `attempt ${d.attempts}, ${describeDelivery(d)}: ${d.error}; next attempt at ${next.nextAttemptAt}`;
  await trace(ports, id, 'delivery rescheduled', detail);
  ports.logger.warn('delivery rescheduled', {
    id,
    delivery: d.key,
    attempt: d.attempts,
    nextAttemptAt: next.nextAttemptAt,
    error: d.error,
  });
  const delivery = deliveryEventData(d);
  ports.emit({
    type: 'delivery.rescheduled',
    id,
    at: d.updatedAt,
    delivery,
    nextAttemptAt: next.nextAttemptAt,
  });
  return true;
}

/**
 * Runs one delivery until it succeeds, fails for good, or the driver closes. A failure the error calls
 * permanent ({@link isRetryable}: a webhook 4xx, a missing port, a bad outbound config) is not tried
 * again; a transient one is, up to `delivery.attempts` tries with backoff, then handed to the driver's
 * retries when it has them (`ports.retries`: the delivery stays `pending` for a later run). The outcome
 * of an action whose effect is in the store (a mailbox entry, a drop) is one of the run's `writes`: with a
 * store that orders its writes it is settled with the message's final status, and a failure to record it
 * fails the message (to be run again, which finds the effect already there) instead of trying the action
 * again here.
 * @returns true when the delivery failed for good (a later run cannot do better without a change).
 */
export async function deliver(
  ports: ProcessingPorts,
  d: DeliveryRecord,
  planned: PlannedDelivery,
  ctx: DeliveryContext,
): Promise<boolean> {
  if (!planned.action) return false;
  const { signal } = ports;
  const tries = ports.config.delivery.attempts;
  for (let n = 1; n <= tries; n++) {
    if (signal.aborted) return false;
    d.attempts += 1;
    // How long the attempt took, at the end of its trace entry: the dev page shows attempt timings.
    const started = ports.now().getTime();
    const took = () => ` [${Math.max(0, ports.now().getTime() - started)} ms]`;
    try {
      const outcome = await tryOnce(ports, d, planned, ctx);
      d.status = outcome.status;
      delete d.error;
      // A mailbox entry or a drop is redone without a duplicate after a lost write: no sync to wait for,
      // and, with a store that orders its writes, no commit of its own either: it is one of the run's
      // writes, which the run settles with its final status (a failure there fails the message).
      if (effectInStore(planned.action)) await ctx.writes.add(() => putDelivery(ports, d, { relaxed: true }));
      else await putDelivery(ports, d);
      await ctx.traces.add(outcome.status, `${describeDelivery(d)}: ${outcome.detail}${took()}`);
      return false;
    } catch (err) {
      d.error = errorText(err);
      const retryable = isRetryable(err);
      if (signal.aborted) {
        d.status = 'pending';
        await putDelivery(ports, d);
        return false;
      }
      if (retryable && n >= tries && (await rescheduled(ports, d, ctx.id))) return false;
      if (n >= tries || !retryable) return giveUp(ports, d, ctx.id, retryable, took());
      d.status = 'pending';
      await putDelivery(ports, d);
      const detail = `attempt ${d.attempts}, ${describeDelivery(d)}: ${d.error}`;
      await trace(ports, ctx.id, 'delivery attempt failed', detail);
      ports.logger.warn('delivery attempt failed', {
        id: ctx.id,
        delivery: d.key,
        attempt: d.attempts,
        error: d.error,
      });
      if (!(await sleep(backoffDelay(n, ports.config.delivery, ports.random), signal))) return false;
    }
  }
  return false;
}
