/**
 * A DynamoDB request of the {@link DynamoMessageStore} failed (throttled past the SDK's retries, the table
 * missing, no permission, a record that cannot be stored), or the store was used after `close()`.
 * `cause` is the SDK's error, when there was one.
 */
export class DynamoStoreError extends Error {
  override readonly name = 'DynamoStoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
