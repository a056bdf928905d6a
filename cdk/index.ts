// mailroom/cdk: the constructs that run Mailroom on AWS.
export { ATTACHMENTS_PREFIX } from './attachment-storage.ts';
export { eventBusArn, grantConfigTargets, lambdaTargetArn } from './config-grants.ts';
export {
  type ConfigSummary,
  ConfigSummaryError,
  readConfigSummary,
  summarizeConfig,
} from './config-summary.ts';
export { MailroomDashboard, type MailroomDashboardProps } from './mailroom-dashboard.ts';
export {
  DELIVERY_ACTION_KINDS,
  type DeliveryActionKind,
  MailroomMetric,
  type MailroomMetricName,
  METRICS_NAMESPACE,
  PROCESSOR_SERVICE,
  SMTP_SERVICE,
} from './mailroom-metrics.ts';
export {
  MailroomPipeline,
  type MailroomPipelineProps,
  SES_RAW_PREFIX,
  SMTP_RAW_PREFIX,
} from './mailroom-pipeline.ts';
export { type IngressKind, MailroomStack, type MailroomStackProps } from './mailroom-stack.ts';
export { type MailroomAlarms, NO_ALARM_TOPIC_WARNING } from './pipeline-alarms.ts';
export { MailroomPropsError } from './props-error.ts';
export { MailroomReadApi, type MailroomReadApiProps, type ReadApiOptions } from './read-api.ts';
export {
  ReceiptRuleSetActivation,
  type ReceiptRuleSetActivationProps,
} from './receipt-rule-set-activation.ts';
export {
  CLAMAV_IMAGE,
  CLAMD_HOST,
  CLAMD_PORT,
  RSPAMD_IMAGE,
  RSPAMD_URL,
  type SpamFilterOptions,
  type VirusScanOptions,
} from './scan-sidecars.ts';
export { SesIngress, type SesIngressProps } from './ses-ingress.ts';
export { sesRecipientsFor } from './ses-recipients.ts';
export { SES_RECEIVING_REGIONS, sesInboundSmtpHost } from './ses-regions.ts';
export {
  bundleConfig,
  ConfigBundleError,
  IMAGE_CONFIG_PATH,
  imageDockerfile,
  writeImageContext,
} from './smtp-image.ts';
export {
  SMTP_CONTAINER_PORT,
  SmtpIngress,
  type SmtpIngressProps,
  SUBMISSION_CONTAINER_PORT,
} from './smtp-ingress.ts';
export { findLockFile, LOCK_FILES } from './user-project.ts';
