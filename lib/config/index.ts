export {
  type AttachmentOptions,
  contentTypeKept,
  DEFAULT_ATTACHMENTS,
  MAX_URL_EXPIRES_IN,
  type ResolvedAttachmentOptions,
} from './attachments-config.ts';
export { staticZoneSchema } from './auth-config.ts';
export { ConfigError } from './errors.ts';
export { isIpOrCidr } from './ip-or-cidr.ts';
export { loadConfig } from './load-config.ts';
export { configWarnings, DEFAULT_CONCURRENCY, defineMailroom, resolveConfig } from './resolve-config.ts';
export type { ResolvedRetentionOptions, RetentionOptions } from './retention-config.ts';
export { DEFAULT_RETRY, type ResolvedRetryOptions, type RetryOptions } from './retry-config.ts';
export type {
  AuthOptions,
  DeliveryOptions,
  HttpOptions,
  MailroomConfig,
  MailroomOptions,
  OutboundOptions,
  ProxyProtocolOptions,
  ReplyAddressOptions,
  ResolvedAuthOptions,
  ResolvedScanOptions,
  ScanOptions,
  SmtpOptions,
  SubmissionOptions,
} from './types.ts';
