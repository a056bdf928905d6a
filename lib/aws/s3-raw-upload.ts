import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, type S3Client, type ServerSideEncryption } from '@aws-sdk/client-s3';
import { s3StoreError } from './store-errors.ts';

// The streamed multipart upload of the S3RawStore (messages past its `multipartThreshold`), and reading a
// source that the ingress may abort at any moment.

/** Where an upload goes, with the store's encryption settings. */
export interface S3UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  sse: { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string };
}

/** Streams `head` + `rest` to S3 as a multipart upload (one PutObject if it turns out to fit one part). */
export async function uploadInParts(
  target: S3UploadTarget,
  sizes: { partSize: number; queueSize: number },
  source: {
    /** What is being done, for the error message. */
    what: string;
    head: Uint8Array[];
    headBytes: number;
    rest: AsyncIterator<Buffer | Uint8Array>;
    signal: AbortSignal | undefined;
  },
): Promise<number> {
  const { head, headBytes, rest, signal } = source;
  let size = headBytes;
  /** Set when the data (not S3) failed: that error is passed on as it is. */
  let sourceError: { error: unknown } | null = null;
  async function* feed(): AsyncGenerator<Uint8Array> {
    yield* head;
    while (true) {
      let next: IteratorResult<Buffer | Uint8Array>;
      try {
        next = await nextOrAbort(rest, signal);
      } catch (error) {
        sourceError = { error };
        throw error;
      }
      if (next.done) return;
      size += next.value.length;
      yield next.value;
    }
  }
  // Loaded for the first large message only: most processes never upload in parts.
  const { Upload } = await import('@aws-sdk/lib-storage');
  const body = Readable.from(feed(), { objectMode: false, highWaterMark: 64 * 1024 });
  const upload = new Upload({
    client: target.client,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: body,
      ContentType: 'message/rfc822',
      Metadata: target.metadata,
      ...target.sse,
    },
    partSize: sizes.partSize,
    queueSize: sizes.queueSize,
    // Parts are cleaned up below, so that the error that made the upload fail is the one reported.
    leavePartsOnError: true,
  });
  try {
    await upload.done();
  } catch (err) {
    body.destroy();
    if (upload.uploadId) {
      await target.client
        .send(
          new AbortMultipartUploadCommand({
            Bucket: target.bucket,
            Key: target.key,
            UploadId: upload.uploadId,
          }),
        )
        .catch(() => undefined);
    }
    const failed = sourceError as { error: unknown } | null;
    if (failed) throw failed.error;
    throw s3StoreError(source.what, err);
  }
  return size;
}

/** The iterator's next value, or the signal's reason as soon as it is aborted. */
export function nextOrAbort<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal | undefined,
): Promise<IteratorResult<T>> {
  if (!signal) return iterator.next();
  signal.throwIfAborted();
  const next = iterator.next();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      next.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    next.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
