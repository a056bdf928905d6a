import { MailroomError } from '../kernel/index.ts';

/**
 * Sending failed; the handler that replied fails. Retryable unless the relay refused for good (a 5xx reply):
 * a network error, a timeout or a 4xx is tried again.
 */
export class OutboundError extends MailroomError {
  override readonly name = 'OutboundError';
  /** SMTP reply code of the refusal, when there was one. */
  readonly responseCode: number | undefined;
  constructor(message: string, options: { cause?: unknown; responseCode?: number } = {}) {
    const permanent = options.responseCode !== undefined && options.responseCode >= 500;
    super(message, { retryable: !permanent, cause: options.cause });
    this.responseCode = options.responseCode;
  }
}

/** Outbound mail is not set up right: no transport, or an unusable From address. Never retryable. */
export class OutboundConfigError extends MailroomError {
  override readonly name = 'OutboundConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { retryable: false, cause: options?.cause });
  }
}
