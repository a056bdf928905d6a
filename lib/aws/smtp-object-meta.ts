import { readS3Object, type S3ObjectClient } from './s3-objects.ts';
import { type StoredMessageMeta, storedMetaOf } from './s3-raw-meta.ts';
import type { ObjectLocation } from './work-items.ts';

/** A sidecar holds an envelope and verdicts: far below this. */
const SIDECAR_MAX_BYTES = 1024 * 1024;

/**
 * The envelope, verdicts and time of receipt `mailroom smtp` stored with `<prefix><id>.eml` (see
 * `S3RawStore`), from the user metadata of the GET that read the message, or from the sidecar
 * `<prefix><id>.meta.json` it points to (the format is `storedMetaOf`'s, shared with `S3RawStore`). Taking
 * the metadata of the processor's own GET saves the HEAD request `S3RawStore.getMeta` would make, and the
 * sidecar read is bounded and fails as the processor's errors do.
 * @returns null when the object carries no Mailroom metadata.
 * @throws StoredMetaError for metadata this version cannot read; MessageProcessingError for a missing sidecar.
 */
export async function smtpObjectMeta(
  client: S3ObjectClient,
  loc: ObjectLocation,
  metadata: Record<string, string>,
): Promise<StoredMessageMeta | null> {
  return storedMetaOf(
    metadata,
    loc,
    async (key) => (await readS3Object(client, { bucket: loc.bucket, key }, SIDECAR_MAX_BYTES)).data,
  );
}
