import { MailroomError } from '../kernel/index.ts';

/**
 * An attachment could not be extracted again from the raw message: no attachment has that index, or the
 * parse stopped (limits, time budget) before its content ended. Not retryable: the bytes will not change.
 */
export class AttachmentExtractionError extends MailroomError {
  override readonly name = 'AttachmentExtractionError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause });
  }
}
