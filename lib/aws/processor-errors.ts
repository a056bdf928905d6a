import { MailroomError } from '../kernel/index.ts';

/**
 * An event the processor does not understand: not JSON, not one of the shapes in `sqs-event-schemas.ts`,
 * or an S3 key that is not a message Mailroom wrote. Retrying cannot help (`retryable: false`); nothing is
 * recorded, so the record is still reported to SQS, whose redrive policy moves it to the dead-letter queue,
 * where it can be inspected.
 */
export class EventShapeError extends MailroomError {
  override readonly name = 'EventShapeError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause });
  }
}

/**
 * A message could not be processed to the end: its raw bytes or their metadata could not be read, or the
 * core finished it with status `failed`. `retryable` (the default) when trying again may help: the SQS
 * record is reported as a batch item failure and delivered again (deliveries already delivered are
 * skipped then). Not retryable when every failed delivery failed for good (a webhook 4xx, a missing port):
 * the message stays recorded as `failed` for `mailroom replay`.
 */
export class MessageProcessingError extends MailroomError {
  override readonly name = 'MessageProcessingError';
  /** Mailroom's id of the message, when it was known. */
  readonly messageId: string | undefined;
  /** True when the message is recorded as `failed`, where `mailroom replay` finds it. */
  readonly keptForReplay: boolean;
  constructor(
    message: string,
    options: { cause?: unknown; messageId?: string; retryable?: boolean; keptForReplay?: boolean } = {},
  ) {
    super(message, { retryable: options.retryable ?? true, cause: options.cause });
    this.messageId = options.messageId;
    this.keptForReplay = options.keptForReplay ?? false;
  }
}

/** A setting of the processor's environment is missing or invalid; the message names the variable. */
export class ProcessEnvError extends MailroomError {
  override readonly name = 'ProcessEnvError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause });
  }
}
