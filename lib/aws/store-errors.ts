// The errors of the AWS stores (the DynamoDB message store, the S3 raw store and its metadata). Each says
// whether trying again can help: throttling, a 5xx, a timeout or a network failure can; a missing table or
// bucket, a denied permission, an item too large, corrupt metadata or a damaged record cannot.
import { isRetryable, MailroomError } from '../kernel/index.ts';

/**
 * Whether a failure may pass when tried again: as the thrower says when it knows, else as its cause (an AWS
 * SDK error) says, else `otherwise`.
 */
function retryableOf(options: { cause?: unknown; retryable?: boolean }, otherwise: boolean): boolean {
  if (options.retryable !== undefined) return options.retryable;
  return options.cause === undefined ? otherwise : isRetryable(options.cause);
}

/**
 * A DynamoDB request of the {@link DynamoMessageStore} failed (throttled past the SDK's retries, the table
 * missing, no permission, a record that cannot be stored), or the store was used after `close()`.
 * `cause` is the SDK's error, when there was one; `retryable` is the one given, else follows the cause
 * (the SDK's `$retryable` / `$fault`), else false (a closed store, a damaged item).
 */
export class DynamoStoreError extends MailroomError {
  override readonly name: string = 'DynamoStoreError';
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, {
      cause: options.cause,
      retryable: retryableOf(options, false),
    });
  }
}

/**
 * An S3 request of the {@link S3RawStore} failed (network, permissions, missing bucket, throttling…), or what
 * it read back is not what Mailroom wrote. The SDK's error is the `cause`; `retryable` follows it. A missing
 * object is not retryable.
 */
export class S3RawStoreError extends MailroomError {
  override readonly name = 'S3RawStoreError';
  /** True when the object asked for does not exist (S3 `NoSuchKey` / `404`). */
  readonly notFound: boolean;

  constructor(message: string, options: { cause?: unknown; notFound?: boolean; retryable?: boolean } = {}) {
    const notFound = options.notFound ?? false;
    super(message, {
      cause: options.cause,
      retryable: !notFound && retryableOf(options, true),
    });
    this.notFound = notFound;
  }
}

/** An S3 error saying the object (not the bucket) does not exist. */
export function isS3NotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** The {@link S3RawStoreError} of a failed S3 request (an S3RawStoreError passes as it is). */
export function s3StoreError(what: string, err: unknown): S3RawStoreError {
  if (err instanceof S3RawStoreError) return err;
  const e = err as { name?: string; message?: string };
  const detail =
    e?.message && e.message !== e.name ? `${e.name ?? 'Error'}: ${e.message}` : (e?.name ?? String(err));
  return new S3RawStoreError(`S3: cannot ${what} (${detail})`, { cause: err, notFound: isS3NotFound(err) });
}

/** The metadata stored at the end of DATA is not what this version of Mailroom reads (never retryable). */
export class StoredMetaError extends MailroomError {
  override readonly name = 'StoredMetaError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause, retryable: false });
  }
}

/**
 * An S3 request of the {@link S3AttachmentStore} failed, or an upload was misused (a hash that is not the
 * bytes', a commit after abort). `retryable` follows the SDK's error (`$retryable` / `$fault`) when there is
 * one; a misuse is not retryable.
 */
export class S3AttachmentStoreError extends MailroomError {
  override readonly name = 'S3AttachmentStoreError';
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { cause: options.cause, retryable: retryableOf(options, false) });
  }
}

/** A listing asked for what the DynamoDB store cannot answer: a filter of the local store, a bad cursor. */
export class ListingQueryError extends DynamoStoreError {
  override readonly name = 'ListingQueryError';
  constructor(message: string) {
    super(message, { retryable: false });
  }
}
