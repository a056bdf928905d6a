import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MessageProcessingError } from './processor-errors.ts';
import type { ObjectLocation } from './work-items.ts';

/** What reading and writing objects needs of an S3 client (an `S3Client` fits). */
export type S3ObjectClient = Pick<S3Client, 'send'>;

function s3Url(loc: ObjectLocation): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name ?? e?.Code ?? 'Error';
}

/** An object read whole. */
export interface S3ObjectContent {
  data: Buffer;
  /** Its user metadata (`x-amz-meta-*`), keys in lower case. */
  metadata: Record<string, string>;
}

/**
 * Reads a whole object and its user metadata in one GET (the pipeline parses a message from one buffer).
 * @param maxBytes larger objects are refused before their body is read.
 * @throws MessageProcessingError when the object is missing, too large or unreadable.
 */
export async function readS3Object(
  client: S3ObjectClient,
  loc: ObjectLocation,
  maxBytes: number,
): Promise<S3ObjectContent> {
  let out: GetObjectCommandOutput;
  try {
    out = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
  } catch (cause) {
    const name = errorName(cause);
    const what =
      name === 'NoSuchKey' || name === 'NotFound' ? 'does not exist' : `could not be read (${name})`;
    throw new MessageProcessingError(`${s3Url(loc)} ${what}`, { cause });
  }
  if (!out.Body) throw new MessageProcessingError(`${s3Url(loc)} has no body`);
  if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
    (out.Body as { destroy?: () => void }).destroy?.();
    throw new MessageProcessingError(
      `${s3Url(loc)} is ${out.ContentLength} bytes, more than the ${maxBytes} a message may have`,
    );
  }
  try {
    const bytes = await out.Body.transformToByteArray();
    return {
      data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      metadata: out.Metadata ?? {},
    };
  } catch (cause) {
    throw new MessageProcessingError(`${s3Url(loc)} could not be read (${errorName(cause)})`, { cause });
  }
}

/**
 * The user metadata of an object (one HEAD request); null when there is no such object.
 * @throws MessageProcessingError when S3 could not answer.
 */
export async function readS3Metadata(
  client: S3ObjectClient,
  loc: ObjectLocation,
): Promise<Record<string, string> | null> {
  try {
    const out = await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    return out.Metadata ?? {};
  } catch (cause) {
    const name = errorName(cause);
    if (name === 'NotFound' || name === 'NoSuchKey') return null;
    throw new MessageProcessingError(`${s3Url(loc)} could not be read (${name})`, { cause });
  }
}

/**
 * Writes an object unless one already exists at that key: a HEAD first (a retried event finds its object
 * and writes nothing), then a PUT with `If-None-Match: *` so that two writers racing for the key cannot
 * replace each other's object. The bytes a retried event carries are the same, so the existing object is
 * the one kept.
 * @returns false when the object already existed.
 * @throws MessageProcessingError when S3 refused the write.
 */
export async function putS3ObjectOnce(
  client: S3ObjectClient,
  loc: ObjectLocation,
  data: Buffer,
  contentType = 'message/rfc822',
): Promise<boolean> {
  if ((await readS3Metadata(client, loc)) !== null) return false;
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: loc.key,
        Body: data,
        ContentLength: data.length,
        ContentType: contentType,
        IfNoneMatch: '*',
      }),
    );
    return true;
  } catch (cause) {
    const status = (cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // 412: the object appeared meanwhile; 409: a concurrent conditional write of the key is in progress.
    if (status === 412 || status === 409 || errorName(cause) === 'PreconditionFailed') return false;
    throw new MessageProcessingError(`${s3Url(loc)} could not be written (${errorName(cause)})`, { cause });
  }
}
