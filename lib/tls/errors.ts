import { MailroomError } from '../kernel/index.ts';

/** The certificate and key could not be loaded or do not form a usable pair (not worth retrying). */
export class TlsConfigError extends MailroomError {
  override readonly name = 'TlsConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { retryable: false, cause: options?.cause });
  }
}
