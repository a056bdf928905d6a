import { readS3Object, type S3ObjectClient } from './s3-objects.ts';
import {
  decodeInlineMeta,
  META_KEY,
  META_SIDECAR,
  parseMetaJson,
  type StoredMessageMeta,
} from './s3-raw-meta.ts';
import type { ObjectLocation } from './work-items.ts';

/** A sidecar holds an envelope and verdicts: far below this. */
const SIDECAR_MAX_BYTES = 1024 * 1024;

/**
 * The envelope, verdicts and time of receipt `mailroom smtp` stored with `<prefix><id>.eml` (see
 * `S3RawStore`), from the user metadata of the GET that read the message, or from the sidecar
 * `<prefix><id>.meta.json` it points to. Reading it here rather than through `S3RawStore` saves a HEAD
 * request per message and keeps `@aws-sdk/lib-storage` (its uploads) out of the processing Lambda.
 * @returns null when the object carries no Mailroom metadata.
 * @throws StoredMetaError for metadata this version cannot read; MessageProcessingError for a missing sidecar.
 */
export async function smtpObjectMeta(
  client: S3ObjectClient,
  loc: ObjectLocation,
  metadata: Record<string, string>,
): Promise<StoredMessageMeta | null> {
  const value = metadata[META_KEY];
  if (value === undefined) return null;
  if (value !== META_SIDECAR) return decodeInlineMeta(value, `s3://${loc.bucket}/${loc.key}`);
  const sidecar = { bucket: loc.bucket, key: loc.key.replace(/\.eml$/, '.meta.json') };
  const { data } = await readS3Object(client, sidecar, SIDECAR_MAX_BYTES);
  return parseMetaJson(data.toString('utf8'), `s3://${sidecar.bucket}/${sidecar.key}`);
}
