/** One attempt at a delivery failed; the pipeline retries it, then records it as `failed` with this message. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  /** HTTP status of a webhook answer, when there was one. */
  readonly status: number | undefined;
  constructor(message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
  }
}

/** A webhook request did not carry a valid Standard Webhooks signature. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
