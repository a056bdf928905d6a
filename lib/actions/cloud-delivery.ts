import { errorText, isRetryable } from '../kernel/index.ts';
import type { ActionRun } from './action-run.ts';
import type { PayloadAttachment } from './attachment-access.ts';
import { buildCloudEvent, type CloudActionEvent } from './cloud-event.ts';
import type { CloudActionPorts, CloudPortName } from './cloud-port-contract.ts';
import { DeliveryError } from './errors.ts';

// What the actions that go through a `CloudActionPorts` port share: finding it, the event, the call.

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
    { retryable: false },
  );
}

/**
 * The port `name` of the run, bound to its ports object.
 * @throws DeliveryError (not retryable) when the environment has no such port.
 */
export function cloudPort<K extends CloudPortName>(
  run: ActionRun,
  name: K,
  what: string,
): NonNullable<CloudActionPorts[K]> {
  const ports = run.cloud;
  const fn = ports?.[name];
  if (!fn) throw missingPort(what);
  return fn.bind(ports) as NonNullable<CloudActionPorts[K]>;
}

/**
 * The run's `CloudActionEvent`, at most `maxBytes` of JSON, with the raw message's location when known and
 * the attachments' URLs.
 */
export function cloudEvent(
  run: ActionRun,
  maxBytes: number,
  attachments: PayloadAttachment[],
): CloudActionEvent {
  const now = run.now ?? (() => new Date());
  return buildCloudEvent(run, {
    now: now(),
    rawLocation: run.cloud?.rawLocation?.(run.messageId) ?? null,
    maxBytes,
    attachments,
  });
}

/** ` (event trimmed to fit: …)` when the event was cut, for the trace. */
export function truncationNote(e: CloudActionEvent): string {
  return e.truncated ? ` (event trimmed to fit: ${e.truncatedFields.join(', ')})` : '';
}

/** Calls a port; its failure becomes a `DeliveryError` as retryable as the port's error says. */
export async function callPort<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    if (cause instanceof DeliveryError) throw cause;
    throw new DeliveryError(`${what} failed: ${errorText(cause)}`, {
      cause,
      status: statusOf(cause),
      retryable: isRetryable(cause),
    });
  }
}
