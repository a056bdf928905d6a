/**
 * An S3 request of the {@link S3RawStore} failed (network, permissions, missing bucket, throttling…), or what
 * it read back is not what Mailroom wrote. The SDK's error is the `cause`.
 */
export class S3RawStoreError extends Error {
  override readonly name = 'S3RawStoreError';
  /** True when the object asked for does not exist (S3 `NoSuchKey` / `404`). */
  readonly notFound: boolean;

  constructor(message: string, options?: { cause?: unknown; notFound?: boolean }) {
    super(message, options);
    this.notFound = options?.notFound ?? false;
  }
}
