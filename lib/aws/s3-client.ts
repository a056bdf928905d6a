import { S3Client } from '@aws-sdk/client-s3';

export interface IngressS3ClientOptions {
  /** @default 'us-east-1' */
  region?: string;
  /**
   * An S3-compatible endpoint (s3rver, MinIO, LocalStack…), addressed path-style.
   * @default none (AWS's endpoint for the region)
   */
  endpoint?: string;
  /** How long to wait for a connection to S3. @default 5_000 */
  connectionTimeoutMs?: number;
  /** How long a request may go without any progress before it is given up (and retried). @default 60_000 */
  requestTimeoutMs?: number;
}

/**
 * The S3 client of `mailroom smtp` in S3 mode: credentials from the default chain (the ECS task role on
 * Fargate), bounded connection and request times so that a stalled S3 call fails (`451`, the sender
 * retries) rather than hanging the SMTP session, and the SDK's retries for the rest.
 */
export function createIngressS3Client(options: IngressS3ClientOptions = {}): S3Client {
  return new S3Client({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
    },
  });
}
