import { MailroomError } from '../kernel/index.ts';

/** An error the dev HTTP API answers as `{"error": message, ...body}` with its HTTP status. */
export class HttpError extends MailroomError {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message, { retryable: status >= 500 || status === 429 || status === 408 });
  }
}
