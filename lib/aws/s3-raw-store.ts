import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import type { Envelope } from '../kernel/index.ts';
import type { RawPutOptions, RawStore } from '../store/index.ts';
import {
  encodeInlineMeta,
  META_KEY,
  META_SIDECAR,
  metaJson,
  type StoredMessageMeta,
  sidecarKeyOf,
  storedMetaOf,
} from './s3-raw-meta.ts';
import { nextOrAbort, uploadInParts } from './s3-raw-upload.ts';
import { isS3NotFound, S3RawStoreError, StoredMetaError, s3StoreError } from './store-errors.ts';

const MIB = 1024 * 1024;
/** S3's smallest part (all but the last). */
const MIN_PART_SIZE = 5 * MIB;
const EXTENSION = '.eml';
/** Ids become object keys: letters, digits, dot, underscore and dash, not starting with a dot. */
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export interface S3RawStoreOptions {
  /** The S3 client (its region, credentials, endpoint and lifetime are the caller's). */
  client: S3Client;
  bucket: string;
  /** Put in front of every key: a message is `<prefix><id>.eml`. @default 'smtp/' */
  prefix?: string;
  /**
   * Messages up to this size are gathered in memory and stored with one `PutObject`; bigger ones stream
   * to S3 as a multipart upload, so memory stays bounded whatever the message size.
   * @default 8_388_608 (8 MiB)
   */
  multipartThreshold?: number;
  /** Part size of multipart uploads; at least 5 MiB (S3's minimum). @default 8_388_608 (8 MiB) */
  partSize?: number;
  /**
   * Parts of one message uploaded at once. A message being uploaded holds about
   * `(queueSize + 1) × partSize` bytes in memory.
   * @default 2
   */
  queueSize?: number;
  /**
   * Server-side encryption asked for on every object written.
   * @default none (the bucket's default encryption applies)
   */
  serverSideEncryption?: 'AES256' | 'aws:kms';
  /** The KMS key for `serverSideEncryption: 'aws:kms'`. @default the bucket's / the AWS managed key */
  sseKmsKeyId?: string;
  /** ListObjectsV2 page size (S3's maximum is 1000). @default 1000 */
  listPageSize?: number;
  /** The clock `receivedAt` comes from. @default () => new Date() */
  now?: () => Date;
}

/** {@link RawPutOptions}, plus the ingress's abort signal. */
export interface S3RawPutOptions extends RawPutOptions {
  /**
   * Aborted when the message will not be accepted after all (too big, client gone, timed out): the put
   * stops, and whatever it wrote is deleted again, even once S3 had confirmed it.
   */
  signal?: AbortSignal;
}

/** A stored message with what is kept beside it. */
export interface StoredMessage {
  data: Buffer;
  /** Null when the object carries no Mailroom metadata. */
  meta: StoredMessageMeta | null;
}

/**
 * Raw messages in an S3 bucket: `<prefix><id>.eml` (`message/rfc822`), with the SMTP envelope, the
 * end-of-DATA authentication verdicts and the time of receipt kept with the object, never inside it:
 *
 * - as the user metadata `mailroom-meta` (base64url of JSON) when that fits S3's 2 KB limit, else
 * - in a sidecar object `<prefix><id>.meta.json`, written (and confirmed) **before** the `.eml`, whose
 *   `mailroom-meta` is then `sidecar`. Whoever sees the `.eml` (the S3 event) finds its metadata there.
 *
 * `put()` resolves only once S3 has confirmed the `.eml` (and the sidecar before it); a message bigger
 * than `multipartThreshold` is streamed as a multipart upload, which is aborted if anything fails. S3
 * failures reject with an {@link S3RawStoreError}; an error thrown by the data being stored is passed on
 * unchanged. Either way nothing of the message is left behind (best effort: deletes can fail too).
 */
export class S3RawStore implements RawStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #threshold: number;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #sse: { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string };
  readonly #listPageSize: number;
  readonly #now: () => Date;

  constructor(options: S3RawStoreOptions) {
    if (!options.bucket) throw new RangeError('S3RawStore: bucket is required');
    this.#client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? 'smtp/';
    this.#threshold = options.multipartThreshold ?? 8 * MIB;
    this.#partSize = options.partSize ?? 8 * MIB;
    this.#queueSize = options.queueSize ?? 2;
    this.#listPageSize = options.listPageSize ?? 1000;
    this.#now = options.now ?? (() => new Date());
    if (!Number.isInteger(this.#threshold) || this.#threshold < 0) {
      throw new RangeError(
        `S3RawStore: multipartThreshold must be a whole number ≥ 0, got ${this.#threshold}`,
      );
    }
    if (!Number.isInteger(this.#partSize) || this.#partSize < MIN_PART_SIZE) {
      throw new RangeError(
        `S3RawStore: partSize must be at least ${MIN_PART_SIZE} (5 MiB), got ${this.#partSize}`,
      );
    }
    if (!Number.isInteger(this.#queueSize) || this.#queueSize < 1) {
      throw new RangeError(`S3RawStore: queueSize must be a whole number ≥ 1, got ${this.#queueSize}`);
    }
    if (!Number.isInteger(this.#listPageSize) || this.#listPageSize < 1 || this.#listPageSize > 1000) {
      throw new RangeError(`S3RawStore: listPageSize must be 1–1000, got ${this.#listPageSize}`);
    }
    if (options.sseKmsKeyId && options.serverSideEncryption !== 'aws:kms') {
      throw new RangeError("S3RawStore: sseKmsKeyId needs serverSideEncryption: 'aws:kms'");
    }
    this.#sse = {};
    if (options.serverSideEncryption) this.#sse.ServerSideEncryption = options.serverSideEncryption;
    if (options.sseKmsKeyId) this.#sse.SSEKMSKeyId = options.sseKmsKeyId;
  }

  /** The key of message `id`. */
  keyFor(id: string): string {
    assertSafeId(id);
    return this.prefix + id + EXTENSION;
  }

  /** The id of the message stored under `key`, or null when `key` is not one of this store's messages. */
  idFromKey(key: string): string | null {
    if (!key.startsWith(this.prefix) || !key.endsWith(EXTENSION)) return null;
    const id = key.slice(this.prefix.length, -EXTENSION.length);
    return SAFE_ID.test(id) ? id : null;
  }

  async put(
    id: string,
    data: Buffer | AsyncIterable<Buffer | Uint8Array>,
    options: S3RawPutOptions = {},
  ): Promise<{ size: number }> {
    const key = this.keyFor(id);
    const signal = options.signal;
    signal?.throwIfAborted();
    let head: Uint8Array[];
    let headBytes = 0;
    let rest: AsyncIterator<Buffer | Uint8Array> | null = null;
    if (Buffer.isBuffer(data)) {
      head = [data];
      headBytes = data.length;
    } else {
      // Gather up to the threshold; past it, the rest streams on into a multipart upload.
      head = [];
      const iterator = data[Symbol.asyncIterator]();
      while (true) {
        const next = await nextOrAbort(iterator, signal);
        if (next.done) break;
        if (next.value.length === 0) continue;
        head.push(next.value);
        headBytes += next.value.length;
        if (headBytes > this.#threshold) {
          rest = iterator;
          break;
        }
      }
    }

    // Metadata goes with every message stored with an envelope (the ingress always gives one).
    const json = options.envelope
      ? metaJson({
          envelope: options.envelope,
          auth: options.auth ?? null,
          receivedAt: this.#now().toISOString(),
        })
      : null;
    const inline = json === null ? null : encodeInlineMeta(json);
    const sidecarKey = sidecarKeyOf(this.keyFor(id));
    // Whatever was started may have landed (an abort or a lost response does not say): clean it up on failure.
    let sidecarStarted = false;
    let emlStarted = false;
    try {
      if (json !== null && inline === null) {
        sidecarStarted = true;
        await this.#putObject(
          `store the metadata of ${id}`,
          sidecarKey,
          json,
          'application/json',
          {},
          signal,
        );
      }
      const Metadata: Record<string, string> = json === null ? {} : { [META_KEY]: inline ?? META_SIDECAR };
      let size: number;
      if (rest === null) {
        const body = head.length === 1 ? asBuffer(head[0]!) : Buffer.concat(head, headBytes);
        emlStarted = true;
        await this.#putObject(`store message ${id}`, key, body, 'message/rfc822', Metadata, signal);
        size = body.length;
      } else {
        emlStarted = true;
        size = await uploadInParts(
          { client: this.#client, bucket: this.bucket, key, metadata: Metadata, sse: this.#sse },
          { partSize: this.#partSize, queueSize: this.#queueSize },
          { what: `store message ${id}`, head, headBytes, rest, signal },
        );
      }
      if (signal?.aborted) {
        throw signal.reason instanceof Error
          ? signal.reason
          : new S3RawStoreError(`message ${id} was withdrawn while it was being stored`, {
              retryable: false,
            });
      }
      return { size };
    } catch (err) {
      // Not awaited: a source stalled in next() would only answer once it gets more data.
      if (rest) void Promise.resolve(rest.return?.()).catch(() => undefined);
      const cleanup: Promise<unknown>[] = [];
      if (emlStarted) cleanup.push(this.#deleteQuietly(key));
      if (sidecarStarted) cleanup.push(this.#deleteQuietly(sidecarKey));
      await Promise.all(cleanup);
      throw err;
    }
  }

  /** One PutObject (with the store's encryption settings). */
  async #putObject(
    what: string,
    key: string,
    body: Buffer | string,
    contentType: string,
    metadata: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    await this.#call(
      what,
      (o) =>
        this.#client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            Metadata: metadata,
            ...this.#sse,
          }),
          o,
        ),
      signal,
    );
  }

  /** The stored bytes; rejects with an {@link S3RawStoreError} (`notFound` for an unknown id). */
  async get(id: string): Promise<Buffer> {
    return this.getObject(this.keyFor(id));
  }

  /** The stored bytes and their metadata, in one GET (two when the metadata is in a sidecar). */
  async getWithMeta(id: string): Promise<StoredMessage> {
    const key = this.keyFor(id);
    const out = await this.#call(`read ${key}`, (o) =>
      this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), o),
    );
    const data = await readBody(out, key);
    return { data, meta: await this.#metaOf(id, out.Metadata) };
  }

  /** The envelope stored with the message, or null (no such message, or none stored). */
  async getEnvelope(id: string): Promise<Envelope | null> {
    return (await this.getMeta(id))?.envelope ?? null;
  }

  /** The metadata stored with the message, or null when there is no such message or it carries none. */
  async getMeta(id: string): Promise<StoredMessageMeta | null> {
    const key = this.keyFor(id);
    let metadata: Record<string, string> | undefined;
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      metadata = out.Metadata;
    } catch (err) {
      if (isS3NotFound(err)) return null;
      throw s3StoreError(`read the metadata of ${key}`, err);
    }
    return this.#metaOf(id, metadata);
  }

  async #metaOf(id: string, metadata: Record<string, string> | undefined): Promise<StoredMessageMeta | null> {
    const key = this.keyFor(id);
    const where = `s3://${this.bucket}/${key}`;
    try {
      return await storedMetaOf(metadata, { bucket: this.bucket, key }, (sidecar) => this.getObject(sidecar));
    } catch (err) {
      if (err instanceof S3RawStoreError) throw err;
      throw new S3RawStoreError(err instanceof StoredMetaError ? err.message : `${where}: ${String(err)}`, {
        cause: err,
      });
    }
  }

  /** Ids of every message under the prefix (`<prefix><id>.eml`; sidecars and other keys are skipped). */
  async list(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.#call(
        `list s3://${this.bucket}/${this.prefix}`,
        (o) =>
          this.#client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: this.prefix,
              MaxKeys: this.#listPageSize,
              ...(token ? { ContinuationToken: token } : {}),
            }),
            o,
          ),
      );
      for (const object of page.Contents ?? []) {
        const id = object.Key === undefined ? null : this.idFromKey(object.Key);
        if (id) ids.push(id);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return ids;
  }

  /** Deletes a message and its sidecar (if any). Deleting what is not there is not an error. */
  async delete(id: string): Promise<void> {
    const keys = [this.keyFor(id), sidecarKeyOf(this.keyFor(id))];
    await Promise.all(
      keys.map((key) =>
        this.#call(`delete ${key}`, (o) =>
          this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), o),
        ),
      ),
    );
  }

  /** Any object of the bucket (e.g. `ses/<messageId>` written by SES), read whole. */
  async getObject(key: string): Promise<Buffer> {
    const out = await this.#call(`read ${key}`, (o) =>
      this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), o),
    );
    return readBody(out, key);
  }

  /** Any object of the bucket as a stream (for messages too big to hold whole). */
  async getObjectStream(key: string): Promise<Readable> {
    const out = await this.#call(`read ${key}`, (o) =>
      this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), o),
    );
    if (out.Body instanceof Readable) return out.Body;
    throw new S3RawStoreError(`read ${key}: the response has no body stream`);
  }

  /** Runs one S3 request; its failure becomes an {@link S3RawStoreError} (an abort, the signal's reason). */
  async #call<T>(
    what: string,
    request: (options: { abortSignal?: AbortSignal }) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return await request(signal ? { abortSignal: signal } : {});
    } catch (err) {
      if (signal?.aborted && signal.reason instanceof Error) throw signal.reason;
      throw s3StoreError(what, err);
    }
  }

  async #deleteQuietly(key: string): Promise<void> {
    await this.#client
      .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))
      .catch(() => undefined);
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function assertSafeId(id: string): void {
  if (!SAFE_ID.test(id)) throw new RangeError(`not a valid message id: ${JSON.stringify(id)}`);
}

async function readBody(out: GetObjectCommandOutput, key: string): Promise<Buffer> {
  if (!out.Body) throw new S3RawStoreError(`read ${key}: the response has no body`);
  try {
    return Buffer.from(await out.Body.transformToByteArray());
  } catch (err) {
    throw s3StoreError(`read ${key}`, err);
  }
}
