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
 * A listing asked for something the store cannot answer (a cursor it did not give, an unknown status, a
 * filter this backend does not support). Not retryable: the query must change. `field` names the
 * `MessageQuery` field.
 */
export class MessageQueryError extends MailroomError {
  override readonly name = 'MessageQueryError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`message query: ${field} ${problem}`, { retryable: false });
  }
}
