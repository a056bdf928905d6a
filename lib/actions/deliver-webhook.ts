import { DeliveryError, isRetryableStatus } from './errors.ts';
import type { WebhookPayload } from './webhook-payload.ts';
import { signWebhook } from './webhook-signature.ts';

/** Where and how a webhook is called (the fields of a `webhook()` action). */
export interface WebhookTarget {
  url: string;
  /** Standard Webhooks secret (`whsec_<base64>` or raw string). */
  secret?: string;
  /** @default 10_000 */
  timeoutMs?: number;
}

/** Bytes of a failing response body quoted in the delivery error. */
const ERROR_BODY_BYTES = 300;

async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // the body is only decoration for the error message
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}

/**
 * POSTs `payload` to the webhook, signed when the action has a secret.
 * Resolves on any 2xx answer.
 * @throws DeliveryError on a non-2xx answer (with `status`; retryable for 408, 429 and 5xx only), a network
 * error or a timeout (both retryable).
 */
export async function deliverWebhook(
  action: WebhookTarget,
  payload: WebhookPayload,
  options: { now: () => Date; signal?: AbortSignal; fetch?: typeof fetch },
): Promise<{ status: number }> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(options.now().getTime() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Mailroom',
    'webhook-id': payload.id,
    'webhook-timestamp': String(timestamp),
  };
  if (action.secret) {
    headers['webhook-signature'] = signWebhook({ secret: action.secret, id: payload.id, timestamp, body });
  }
  const timeoutMs = action.timeoutMs ?? 10_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const doFetch = options.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(action.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
  } catch (cause) {
    if (timeout.aborted)
      throw new DeliveryError(`webhook timed out after ${timeoutMs} ms`, { cause, retryable: true });
    const reason =
      cause instanceof Error
        ? cause.cause instanceof Error
          ? cause.cause.message
          : cause.message
        : String(cause);
    throw new DeliveryError(`webhook request failed: ${reason}`, { cause, retryable: true });
  }
  if (res.status < 200 || res.status > 299) {
    const snippet = await readSnippet(res);
    throw new DeliveryError(
      `webhook answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`,
      { status: res.status, retryable: isRetryableStatus(res.status) },
    );
  }
  res.body?.cancel().catch(() => {});
  return { status: res.status };
}
