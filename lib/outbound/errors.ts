/** Sending failed; the handler that replied fails and is retried. */
export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  /** SMTP reply code of the refusal, when there was one. */
  readonly responseCode: number | undefined;
  constructor(message: string, options: { cause?: unknown; responseCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.responseCode = options.responseCode;
  }
}

/** Outbound mail is not set up right: no transport, or an unusable From address. */
export class OutboundConfigError extends Error {
  override readonly name = 'OutboundConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
