/**
 * An event the processor does not understand: not JSON, not one of the shapes in `sqs-event-schemas.ts`,
 * or an S3 key that is not a message Mailroom wrote. Retrying cannot help; the queue's redrive policy
 * moves the record to the dead-letter queue, where it can be inspected.
 */
export class EventShapeError extends Error {
  override readonly name = 'EventShapeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A message could not be processed to the end: its raw bytes or their metadata could not be read, or the
 * pipeline finished it with status `failed` (a delivery failed). The SQS record is reported as a batch item
 * failure so SQS delivers it again (deliveries already delivered are skipped then).
 */
export class MessageProcessingError extends Error {
  override readonly name = 'MessageProcessingError';
  /** Mailroom's id of the message, when it was known. */
  readonly messageId: string | undefined;
  constructor(message: string, options?: { cause?: unknown; messageId?: string }) {
    super(message, options);
    this.messageId = options?.messageId;
  }
}
