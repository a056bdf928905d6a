import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Upload } from '@aws-sdk/lib-storage';
import type { AttachmentStore, AttachmentUpload } from '../store/index.ts';
import { isS3NotFound, S3AttachmentStoreError } from './store-errors.ts';

const MIB = 1024 * 1024;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** The content type every stored attachment object has (the real one is the message's to say). */
const OBJECT_CONTENT_TYPE = 'application/octet-stream';
/** User metadata: when a message last committed this content. */
export const USED_AT_METADATA = 'mailroom-used-at';

export interface S3AttachmentStoreOptions {
  /** The S3 client (its region, credentials, endpoint and lifetime are the caller's). */
  client: S3Client;
  /** The mail bucket (the raw messages' bucket). */
  bucket: string;
  /** Attachments are `<prefix><sha256>`, uploads in progress `<prefix>.tmp/<uuid>`. @default 'attachments/' */
  prefix?: string;
  /** Part size of the streamed multipart upload; at least 5 MiB (S3's minimum). @default 5 MiB */
  partSize?: number;
  /** Parts of one attachment uploaded at once; memory is about `(queueSize + 1) × partSize`. @default 2 */
  queueSize?: number;
  /** The clock of the `mailroom-used-at` metadata a commit writes. @default () => new Date() */
  now?: () => Date;
}

/**
 * Attachments in the mail bucket, content-addressed: `attachments/<sha256>`, the lifecycle rule of the
 * prefix expiring them (see the CDK construct). An upload streams to a temporary key
 * (`attachments/.tmp/<uuid>`, multipart through `@aws-sdk/lib-storage`, so memory stays bounded by the part
 * buffers whatever the size); `commit` copies it server-side to its final key, or, when that content is
 * stored already, drops it and copies the existing object onto itself so its age (and the lifecycle's
 * count) starts again from this message.
 */
export class S3AttachmentStore implements AttachmentStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #now: () => Date;

  constructor(options: S3AttachmentStoreOptions) {
    if (!options.bucket) throw new RangeError('S3AttachmentStore: bucket is required');
    this.#client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? 'attachments/';
    this.#partSize = options.partSize ?? 5 * MIB;
    this.#queueSize = options.queueSize ?? 2;
    this.#now = options.now ?? (() => new Date());
    if (!Number.isInteger(this.#partSize) || this.#partSize < 5 * MIB) {
      throw new RangeError(`S3AttachmentStore: partSize must be at least 5 MiB, got ${this.#partSize}`);
    }
    if (!Number.isInteger(this.#queueSize) || this.#queueSize < 1) {
      throw new RangeError(`S3AttachmentStore: queueSize must be a whole number ≥ 1, got ${this.#queueSize}`);
    }
  }

  /** The object key of the content with this hash. */
  keyOf(sha256: string): string {
    return `${this.prefix}${checkedHash(sha256)}`;
  }

  begin(): AttachmentUpload {
    return new S3Upload(this, `${this.prefix}.tmp/${randomUUID()}`, {
      partSize: this.#partSize,
      queueSize: this.#queueSize,
    });
  }

  async open(sha256: string): Promise<Readable | null> {
    const key = this.keyOf(sha256);
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (out.Body as Readable | undefined) ?? null;
    } catch (err) {
      if (isS3NotFound(err)) return null;
      throw attachmentError(`read ${key}`, err);
    }
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.headSize(this.keyOf(sha256))) !== null;
  }

  async delete(sha256: string): Promise<void> {
    const key = this.keyOf(sha256);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      throw attachmentError(`delete ${key}`, err);
    }
  }

  async *list(): AsyncIterable<{ sha256: string; size: number; lastUsedAt: string }> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
        );
      } catch (err) {
        throw attachmentError(`list ${this.prefix}`, err);
      }
      for (const object of page.Contents ?? []) {
        const sha256 = object.Key?.slice(this.prefix.length) ?? '';
        if (!SHA256_HEX.test(sha256)) continue; // uploads in progress, foreign objects
        yield {
          sha256,
          size: object.Size ?? 0,
          lastUsedAt: (object.LastModified ?? new Date(0)).toISOString(),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** The object's size; null when there is none. */
  async headSize(key: string): Promise<number | null> {
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.ContentLength ?? 0;
    } catch (err) {
      if (isS3NotFound(err)) return null;
      throw attachmentError(`read ${key}`, err);
    }
  }

  /**
   * A server-side copy with new metadata (`mailroom-used-at`); onto itself that makes the object new again
   * (its LastModified, which the lifecycle rule counts from).
   */
  async copy(from: string, to: string): Promise<void> {
    try {
      await this.#client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: to,
          CopySource: `${this.bucket}/${encodeURIComponent(from).replaceAll('%2F', '/')}`,
          MetadataDirective: 'REPLACE',
          ContentType: OBJECT_CONTENT_TYPE,
          Metadata: { [USED_AT_METADATA]: this.#now().toISOString() },
        }),
      );
    } catch (err) {
      throw attachmentError(`copy ${from} to ${to}`, err);
    }
  }

  /** Deletes an object; a failure is swallowed (a temporary key; the lifecycle removes what is left). */
  async deleteQuietly(key: string): Promise<void> {
    await this.#client
      .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))
      .catch(() => undefined);
  }

  async newUpload(key: string, body: Readable, sizes: { partSize: number; queueSize: number }) {
    const { Upload } = await import('@aws-sdk/lib-storage');
    return new Upload({
      client: this.#client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: OBJECT_CONTENT_TYPE },
      partSize: sizes.partSize,
      queueSize: sizes.queueSize,
      leavePartsOnError: false,
    });
  }
}

/** One streamed upload to a temporary key, then its commit under the content's hash. */
class S3Upload implements AttachmentUpload {
  readonly #store: S3AttachmentStore;
  readonly #tempKey: string;
  readonly #body = new PassThrough({ highWaterMark: 256 * 1024 });
  readonly #hash = createHash('sha256');
  readonly #done: Promise<void>;
  #upload: Upload | undefined;
  #size = 0;
  #finished = false;

  constructor(store: S3AttachmentStore, tempKey: string, sizes: { partSize: number; queueSize: number }) {
    this.#store = store;
    this.#tempKey = tempKey;
    this.#done = store.newUpload(tempKey, this.#body, sizes).then(async (upload) => {
      this.#upload = upload;
      await upload.done();
    });
    this.#done.catch(() => undefined); // seen by commit or abort
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#finished) throw new S3AttachmentStoreError('attachment upload already committed or aborted');
    this.#hash.update(chunk);
    this.#size += chunk.length;
    if (this.#body.write(chunk)) return;
    // Until the uploader has taken enough to go on, or has failed (then no drain ever comes).
    await Promise.race([
      new Promise<void>((resolve) => this.#body.once('drain', resolve)),
      this.#done.then(
        () => undefined,
        (err: unknown) => {
          throw attachmentError(`upload ${this.#tempKey}`, err);
        },
      ),
    ]);
  }

  async commit(sha256: string): Promise<{ created: boolean; size: number }> {
    if (this.#finished) throw new S3AttachmentStoreError('attachment upload already committed or aborted');
    this.#finished = true;
    const actual = this.#hash.digest('hex');
    if (actual !== sha256) {
      await this.#discard();
      throw new S3AttachmentStoreError(
        `attachment hash mismatch: the caller said ${sha256}, the bytes written hash to ${actual}`,
        { retryable: false },
      );
    }
    this.#body.end();
    try {
      await this.#done;
    } catch (err) {
      await this.#store.deleteQuietly(this.#tempKey);
      throw attachmentError(`upload ${this.#tempKey}`, err);
    }
    const finalKey = this.#store.keyOf(sha256);
    try {
      const existing = await this.#store.headSize(finalKey);
      if (existing !== null) {
        await this.#store.copy(finalKey, finalKey); // its age starts again from this message
        return { created: false, size: this.#size };
      }
      await this.#store.copy(this.#tempKey, finalKey);
      return { created: true, size: this.#size };
    } finally {
      await this.#store.deleteQuietly(this.#tempKey);
    }
  }

  async abort(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await this.#discard();
  }

  async #discard(): Promise<void> {
    this.#body.destroy();
    await this.#upload?.abort().catch(() => undefined);
    await this.#done.catch(() => undefined);
    await this.#store.deleteQuietly(this.#tempKey);
  }
}

function checkedHash(sha256: string): string {
  if (!SHA256_HEX.test(sha256)) {
    throw new S3AttachmentStoreError(`not a SHA-256 (64 lower-case hex digits): ${sha256.slice(0, 80)}`, {
      retryable: false,
    });
  }
  return sha256;
}

/** The {@link S3AttachmentStoreError} of a failed S3 request (one passes as it is). */
function attachmentError(what: string, err: unknown): S3AttachmentStoreError {
  if (err instanceof S3AttachmentStoreError) return err;
  const e = err as { name?: string; message?: string };
  const detail =
    e?.message && e.message !== e.name ? `${e.name ?? 'Error'}: ${e.message}` : (e?.name ?? String(err));
  return new S3AttachmentStoreError(`S3: cannot ${what} (${detail})`, { cause: err });
}
