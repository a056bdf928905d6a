/** An AWS call made for a `lambda()`, `eventBridge()` or `forward()` action failed or was refused. */
export class AwsActionError extends Error {
  override readonly name = 'AwsActionError';
  /** The AWS error code (`ResourceNotFoundException`, `MessageRejected`, a PutEvents `ErrorCode`…). */
  readonly code: string | undefined;
  /** HTTP status of the service's answer, when there was one (also read by `DeliveryError.status`). */
  readonly status: number | undefined;
  constructor(message: string, options: { cause?: unknown; code?: string; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.status = options.status;
  }
}

/** Wraps an SDK error: `<what> failed: <Code>: <message>`, with its code, HTTP status and cause. */
export function awsCallError(what: string, cause: unknown): AwsActionError {
  const e = (cause ?? {}) as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const code = typeof e.name === 'string' ? e.name : undefined;
  const message = typeof e.message === 'string' && e.message ? e.message : String(cause);
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  return new AwsActionError(`${what} failed: ${code ?? 'Error'}: ${message}`, { cause, code, status });
}
