import { MailroomError } from '../kernel/index.ts';

/** A value given to lib/auth by our own configuration is unusable (e.g. an authserv-id that is no host name). */
export class AuthConfigError extends MailroomError {
  override readonly name = 'AuthConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { retryable: false, cause: options?.cause });
  }
}
