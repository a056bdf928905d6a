import { describe, expect, it } from 'vitest';
import { DynamoStoreError, S3RawStoreError, StoredMetaError } from '../../../lib/aws/store-errors.ts';
import { isRetryable, MailroomError } from '../../../lib/kernel/index.ts';

/** An AWS SDK service error as the SDK v3 shapes it. */
function sdkError(name: string, fault: 'client' | 'server', retryable?: { throttling: boolean }): Error {
  return Object.assign(new Error(name), { name, $fault: fault, $retryable: retryable });
}

describe('AWS store errors', () => {
  it('are MailroomErrors that keep their cause', () => {
    const cause = sdkError('InternalServerError', 'server');
    for (const err of [
      new DynamoStoreError('x', { cause }),
      new S3RawStoreError('x', { cause }),
      new StoredMetaError('x', { cause }),
    ]) {
      expect(err).toBeInstanceOf(MailroomError);
      expect(err.cause).toBe(cause);
    }
  });

  it('retry throttling, server faults and network failures, not client faults', () => {
    const throttled = sdkError('ProvisionedThroughputExceededException', 'client', { throttling: true });
    const serverFault = sdkError('InternalServerError', 'server');
    const network = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const denied = sdkError('AccessDeniedException', 'client');
    const tooLarge = sdkError('ValidationException', 'client');
    for (const cause of [throttled, serverFault, network]) {
      expect(isRetryable(new DynamoStoreError('x', { cause }))).toBe(true);
      expect(isRetryable(new S3RawStoreError('x', { cause }))).toBe(true);
    }
    for (const cause of [denied, tooLarge]) {
      expect(isRetryable(new DynamoStoreError('x', { cause }))).toBe(false);
      expect(isRetryable(new S3RawStoreError('x', { cause }))).toBe(false);
    }
  });

  it('never retry a missing object, corrupt metadata, a closed store or a damaged item', () => {
    const noSuchKey = sdkError('NoSuchKey', 'client');
    expect(new S3RawStoreError('x', { cause: noSuchKey, notFound: true }).retryable).toBe(false);
    expect(new StoredMetaError('bad metadata').retryable).toBe(false);
    const corrupt = new StoredMetaError('bad metadata');
    expect(new S3RawStoreError('x', { cause: corrupt }).retryable).toBe(false);
    expect(new DynamoStoreError('the message store is closed').retryable).toBe(false);
  });
});
