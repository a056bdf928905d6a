import { createHash } from 'node:crypto';
import { errorText } from '../kernel/index.ts';
import { OutboundConfigError } from '../outbound/errors.ts';
import { forwardMessage } from '../outbound/forward-message.ts';
import { forwardSkipReason } from '../outbound/forward-safety.ts';
import { domainOf, parseSenderAddress } from '../outbound/sender-address.ts';
import { buildCloudEvent, type CloudActionEvent, MAX_CLOUD_EVENT_BYTES } from './cloud-event.ts';
import type { CloudActionPorts } from './cloud-ports.ts';
import { DeliveryError } from './errors.ts';
import type { ActionOutcome, ActionRun } from './run-action.ts';
import type { EventBridgeAction, ForwardAction, LambdaAction } from './types.ts';

/** The `source` of events from `eventBridge()` actions that give none. */
export const DEFAULT_EVENT_SOURCE = 'mailroom';
/**
 * The `detail-type` of events from `eventBridge()` actions that give none. Distinct from the processor's
 * own lifecycle events (`mailroom.received`, `mailroom.routed`): this one carries a message routed to you.
 */
export const DEFAULT_EVENT_DETAIL_TYPE = 'mailroom.message';

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown; $metadata?: { httpStatusCode?: unknown } } | null) ?? {};
  const s = status.status ?? status.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

function missingPort(what: string): DeliveryError {
  return new DeliveryError(
    `${what} actions need the AWS processor (functions/process.ts), which injects createAwsActionPorts() ` +
      'from lib/aws; in local development `mailroom dev` records them instead (createLocalActionPorts), and ' +
      'an embedded pipeline can pass its own `cloud` ports to createPipeline()',
  );
}

function port<K extends 'invokeLambda' | 'putEvent' | 'forward'>(
  ports: CloudActionPorts | undefined,
  name: K,
  what: string,
): NonNullable<CloudActionPorts[K]> {
  const fn = ports?.[name];
  if (!fn) throw missingPort(what);
  return fn.bind(ports) as NonNullable<CloudActionPorts[K]>;
}

function event(run: ActionRun, now: () => Date, maxBytes: number): CloudActionEvent {
  return buildCloudEvent(run, {
    now: now(),
    rawLocation: run.cloud?.rawLocation?.(run.messageId) ?? null,
    maxBytes,
  });
}

function truncationNote(e: CloudActionEvent): string {
  return e.truncated ? ` (event trimmed to fit: ${e.truncatedFields.join(', ')})` : '';
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    if (cause instanceof DeliveryError) throw cause;
    throw new DeliveryError(`${what} failed: ${errorText(cause)}`, { cause, status: statusOf(cause) });
  }
}

/** `lambda()`: one asynchronous invocation with the delivery's event. */
export async function runLambda(
  action: LambdaAction,
  run: ActionRun,
  now: () => Date,
): Promise<ActionOutcome> {
  const invoke = port(run.cloud, 'invokeLambda', 'lambda');
  const target = action.qualifier ? `${action.functionName}:${action.qualifier}` : action.functionName;
  const payload = event(run, now, MAX_CLOUD_EVENT_BYTES);
  const request = {
    functionName: action.functionName,
    event: payload,
    idempotencyKey: run.idempotencyKey,
    ...(action.qualifier ? { qualifier: action.qualifier } : {}),
  };
  const { detail } = await call(`lambda ${target}`, () => invoke(request));
  return { status: 'delivered', detail: `lambda ${target}: ${detail}${truncationNote(payload)}` };
}

/** `eventBridge()`: one event on the bus, its `detail` the delivery's event. */
export async function runEventBridge(
  action: EventBridgeAction,
  run: ActionRun,
  now: () => Date,
): Promise<ActionOutcome> {
  const put = port(run.cloud, 'putEvent', 'eventBridge');
  const source = action.source ?? DEFAULT_EVENT_SOURCE;
  const detailType = action.detailType ?? DEFAULT_EVENT_DETAIL_TYPE;
  // EventBridge counts source and detail-type into the entry's 256 KiB.
  const maxBytes = MAX_CLOUD_EVENT_BYTES - Buffer.byteLength(source) - Buffer.byteLength(detailType);
  const detail = event(run, now, maxBytes);
  const result = await call(`eventBridge ${action.eventBusName}`, () =>
    put({
      eventBusName: action.eventBusName,
      source,
      detailType,
      detail,
      idempotencyKey: run.idempotencyKey,
    }),
  );
  return {
    status: 'delivered',
    detail: `eventBridge ${action.eventBusName}: ${result.detail}${truncationNote(detail)}`,
  };
}

/** The outbox key of a delivery's forward: 32 hex characters of a SHA-256 of its idempotency key. */
export function forwardKey(idempotencyKey: string): string {
  return createHash('sha256').update(`mailroom-forward\0${idempotencyKey}`).digest('hex').slice(0, 32);
}

/**
 * `forward()`: loop checks ({@link forwardSkipReason}: a forbidden forward is `dropped` with the reason),
 * then the rewritten message ({@link forwardMessage}) to the port. From: the action's `from`, else the
 * port's `forwardFrom`, else the recipient that routed here.
 */
export async function runForward(
  action: ForwardAction,
  run: ActionRun,
  now: () => Date,
): Promise<ActionOutcome> {
  const send = port(run.cloud, 'forward', 'forward');
  const targets = action.to.join(', ');
  const reason = forwardSkipReason({
    envelope: run.envelope,
    message: run.message,
    to: action.to,
    recipients: run.recipients,
  });
  if (reason !== null) return { status: 'dropped', detail: `forward to ${targets} skipped: ${reason}` };

  let from: ReturnType<typeof parseSenderAddress>;
  try {
    from = parseSenderAddress(action.from ?? run.cloud?.forwardFrom ?? run.recipient);
  } catch (cause) {
    const text =
      cause instanceof OutboundConfigError ? cause.message.replace(/^reply /, '') : errorText(cause);
    throw new DeliveryError(`forward to ${targets}: ${text}`, { cause });
  }
  const forwarded = forwardMessage({
    raw: run.raw,
    message: run.message,
    from,
    to: action.to,
    forwardedFor: run.recipients,
  });
  const id = forwardKey(run.idempotencyKey);
  const context = {
    id,
    messageId: run.message.messageId ?? `<${id}@${domainOf(from.address)}>`,
    inReplyTo: run.messageId,
    subject: run.message.subject,
    date: now(),
  };
  const result = await call(`forward to ${targets}`, () =>
    send({ raw: forwarded.raw, envelope: forwarded.envelope, context, idempotencyKey: run.idempotencyKey }),
  );
  return { status: 'delivered', detail: `forwarded to ${targets} from ${from.address}: ${result.detail}` };
}
