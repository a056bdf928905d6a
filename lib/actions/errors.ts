import { MailroomError } from '../kernel/index.ts';

/**
 * One attempt at a delivery failed. The pipeline retries it while `retryable` (a timeout, a 5xx, a
 * throttled service), then records it as `failed` with this message; a permanent failure (a webhook's
 * 4xx other than 408/429, a missing port, a config error) is not retried.
 */
export class DeliveryError extends MailroomError {
  override readonly name = 'DeliveryError';
  /** HTTP status of a webhook answer, when there was one. */
  readonly status: number | undefined;
  constructor(message: string, options: { retryable: boolean; cause?: unknown; status?: number }) {
    super(message, { retryable: options.retryable, cause: options.cause });
    this.status = options.status;
  }
}

/** A webhook request did not carry a valid Standard Webhooks signature (sending it again will not help). */
export class WebhookVerificationError extends MailroomError {
  override readonly name = 'WebhookVerificationError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause });
  }
}

/** Whether an HTTP answer with `status` may turn out differently later: 408, 429 and 5xx (and no answer). */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true;
  if (status === 408 || status === 429) return true;
  return status < 400 || status >= 500;
}
