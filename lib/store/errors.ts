import { MailroomError } from '../kernel/index.ts';

/**
 * The database was written by a newer Mailroom than this one. Not retryable: only upgrading Mailroom (or
 * opening another file) helps.
 */
export class SchemaVersionError extends MailroomError {
  override readonly name = 'SchemaVersionError';
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`message store schema version ${found} is newer than this Mailroom supports (${supported})`, {
      retryable: false,
    });
  }
}
