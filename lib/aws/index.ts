// The AWS adapters: S3 raw store, DynamoDB message store, the processing Lambda's core, the ingress's S3
// acceptor, and the SDK side of the lambda() / eventBridge() / forward() actions. Only this folder (with
// functions/, cdk/, bench/ and test/) imports the AWS SDK; the core never does.
export { AwsActionError } from './aws-action-error.ts';
export {
  type AwsActionPortsOptions,
  createAwsActionPorts,
  type EventBridgePutClient,
  type LambdaInvokeClient,
  SES_MAX_MESSAGE_BYTES,
  type SesSendEmailClient,
} from './aws-sdk-ports.ts';
export { type CreateMessageTableOptions, createMessageTable } from './dynamo-create-table.ts';
export { DynamoMessageStore, type DynamoMessageStoreOptions } from './dynamo-message-store.ts';
export {
  GSI1,
  GSI2,
  type GsiSchema,
  TABLE_GSIS,
  TABLE_KEY_ATTRIBUTES,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  TTL_ATTRIBUTE,
} from './dynamo-table-schema.ts';
export { EventEmitError, eventBridgeEmitter, MAILROOM_EVENT_SOURCE } from './event-bridge-emitter.ts';
export type { EmitEvents, MailroomEvent } from './mailroom-events.ts';
export { EmfMetrics } from './observability/emf-metrics.ts';
export {
  type MailroomMetricName,
  METRICS_NAMESPACE,
  type MetricsPort,
  PROCESSOR_SERVICE,
  SMTP_SERVICE,
} from './observability/metric-names.ts';
export { EventShapeError, MessageProcessingError, ProcessEnvError } from './processor-errors.ts';
export { S3AttachmentStore, type S3AttachmentStoreOptions } from './s3-attachment-store.ts';
export {
  type S3AttachmentPortsOptions,
  s3AttachmentPorts,
} from './s3-attachment-urls.ts';
export { createIngressS3Client, type IngressS3ClientOptions } from './s3-client.ts';
export { createS3Acceptor } from './s3-ingress.ts';
export { S3RawStore, type S3RawStoreOptions } from './s3-raw-store.ts';
export { loadSubmissionUsers, SubmissionUsersSecretError } from './secrets-manager-users.ts';
export { SesMail, type SesMailOptions } from './ses-outbound-mail.ts';
export { createSqsProcessor, type SqsProcessor, type SqsProcessorOptions } from './sqs-processor.ts';
export { DynamoStoreError, S3AttachmentStoreError, S3RawStoreError } from './store-errors.ts';
