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

/**
 * An attachment upload could not be committed: the hash the caller gave is not the hash of the bytes
 * written (not retryable: the same bytes give the same hash), or it was used after commit or abort.
 */
export class AttachmentUploadError extends MailroomError {
  override readonly name = 'AttachmentUploadError';
  constructor(message: string) {
    super(message, { retryable: false });
  }
}
