import { isRetryable, MailroomError } from '../kernel/index.ts';

/**
 * An AWS call made for a `lambda()`, `eventBridge()` or `forward()` action failed or was refused.
 * `retryable` when trying again may succeed: no answer, throttling, a server fault; not for a refusal
 * (a missing function, access denied, a message SES will never take).
 */
export class AwsActionError extends MailroomError {
  override readonly name = 'AwsActionError';
  /** The AWS error code (`ResourceNotFoundException`, `MessageRejected`, a PutEvents `ErrorCode`…). */
  readonly code: string | undefined;
  /** HTTP status of the service's answer, when there was one (also read by `DeliveryError.status`). */
  readonly status: number | undefined;
  constructor(
    message: string,
    options: { retryable: boolean; cause?: unknown; code?: string; status?: number },
  ) {
    super(message, { retryable: options.retryable, cause: options.cause });
    this.code = options.code;
    this.status = options.status;
  }
}

/** Whether an SDK error may go away: a 408, 429 or 5xx answer, else as the SDK's `$retryable`/`$fault` say. */
function sdkErrorRetryable(cause: unknown, status: number | undefined): boolean {
  if (status === 408 || status === 429 || (status !== undefined && status >= 500)) return true;
  const e = (cause ?? {}) as { $retryable?: unknown; $fault?: unknown };
  if (e.$retryable || e.$fault !== undefined) return isRetryable(cause);
  return status === undefined; // no answer (a network error, a timeout): retryable; another 4xx: not
}

/** Wraps an SDK error: `<what> failed: <Code>: <message>`, with its code, HTTP status and cause. */
export function awsCallError(what: string, cause: unknown): AwsActionError {
  const e = (cause ?? {}) as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const code = typeof e.name === 'string' ? e.name : undefined;
  const message = typeof e.message === 'string' && e.message ? e.message : String(cause);
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  return new AwsActionError(`${what} failed: ${code ?? 'Error'}: ${message}`, {
    cause,
    code,
    status,
    retryable: sdkErrorRetryable(cause, status),
  });
}
