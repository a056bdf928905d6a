import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { MessageDetail } from '../../store/index.ts';
import { DynamoMessageStore } from '../dynamo-message-store.ts';
import { type RawPrefixes, storedObject } from '../raw-object-location.ts';
import { S3AttachmentStore } from '../s3-attachment-store.ts';
import { presignedAttachmentUrl, urlSeconds } from '../s3-attachment-urls.ts';
import { isS3NotFound, S3RawStoreError, s3StoreError } from '../store-errors.ts';
import type { ObjectLocation } from '../work-items.ts';
import type { ReadApiPorts } from './read-api-handler.ts';

export interface ReadApiPortsOptions extends RawPrefixes {
  s3: S3Client;
  dynamo: DynamoDBClient;
  tableName: string;
  /** @default 'attachments/' */
  attachmentPrefix?: string;
  /** Seconds the presigned URLs of raw messages and attachments work. @default 3600 */
  urlExpiresIn?: number;
}

/**
 * The read API's ports on AWS: the DynamoDB store (reads only), the raw objects in the mail bucket (only
 * there: a record naming another bucket is refused) and the attachments under `attachments/`. URLs are
 * signed with the function's credentials (see `s3-attachment-urls.ts` on their lifetime).
 */
export function createReadApiPorts(options: ReadApiPortsOptions): ReadApiPorts {
  const store = new DynamoMessageStore({ client: options.dynamo, tableName: options.tableName });
  const attachments = new S3AttachmentStore({
    client: options.s3,
    bucket: options.rawBucket,
    ...(options.attachmentPrefix === undefined ? {} : { prefix: options.attachmentPrefix }),
  });
  const expiresIn = urlSeconds(options.urlExpiresIn);
  const location = (message: MessageDetail): ObjectLocation => {
    const { object } = storedObject(message, options);
    if (object.bucket !== options.rawBucket) {
      throw new S3RawStoreError(`message ${message.id} is stored in another bucket (${object.bucket})`, {
        retryable: false,
      });
    }
    return object;
  };
  return {
    store,
    raw: {
      async size(message) {
        const { bucket, key } = location(message);
        try {
          const out = await options.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          return out.ContentLength ?? 0;
        } catch (err) {
          if (isS3NotFound(err)) return null;
          throw s3StoreError(`read s3://${bucket}/${key}`, err);
        }
      },
      async read(message) {
        const { bucket, key } = location(message);
        try {
          const out = await options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          if (!out.Body) throw new S3RawStoreError(`s3://${bucket}/${key} has no body`);
          return Buffer.from(await out.Body.transformToByteArray());
        } catch (err) {
          throw s3StoreError(`read s3://${bucket}/${key}`, err);
        }
      },
      url(message) {
        const { bucket, key } = location(message);
        const command = new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ResponseContentType: 'message/rfc822',
          ResponseContentDisposition: `attachment; filename="${message.id.replace(/[^A-Za-z0-9._-]/g, '_')}.eml"`,
        });
        return getSignedUrl(options.s3, command, { expiresIn });
      },
    },
    attachments: {
      has: (sha256) => attachments.has(sha256),
      url: (attachment, { download }) =>
        presignedAttachmentUrl(options.s3, attachments, attachment, expiresIn, { download }),
    },
  };
}
