import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** Key prefix of the attachments the processor keeps (`attachments/<sha256>`, content-addressed). */
export const ATTACHMENTS_PREFIX = 'attachments/';
/** Where an attachment upload is written before its commit (`attachments/.tmp/<uuid>`). */
export const ATTACHMENT_UPLOADS_PREFIX = `${ATTACHMENTS_PREFIX}.tmp/`;

/**
 * The mail bucket's lifecycle rules for attachments: they expire `retentionDays` after they were last
 * used (a commit of content already stored copies the object onto itself, which renews its age), as raw
 * mail and records (DynamoDB TTL from `MAILROOM_RETENTION_DAYS`) do; uploads a crash left behind go
 * after a day.
 */
export function attachmentLifecycleRules(retentionDays: number, versioned: boolean): s3.LifecycleRule[] {
  return [
    {
      id: 'expire-attachments',
      prefix: ATTACHMENTS_PREFIX,
      expiration: Duration.days(retentionDays),
      noncurrentVersionExpiration: versioned ? Duration.days(retentionDays) : undefined,
    },
    { id: 'expire-attachment-uploads', prefix: ATTACHMENT_UPLOADS_PREFIX, expiration: Duration.days(1) },
  ];
}

/**
 * Lets the processor keep attachments: put, copy (GetObject is its read grant) and delete objects under
 * `attachments/` only, and abort its own multipart uploads there; with a KMS key, data keys of it.
 */
export function grantAttachmentWrites(bucket: s3.IBucket, key: kms.IKey | undefined, role: iam.IRole): void {
  const resource = bucket.arnForObjects(`${ATTACHMENTS_PREFIX}*`);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: [resource],
    }),
  );
  key?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
}
