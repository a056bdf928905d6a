export { ConfigError } from './errors.ts';
export { loadConfig } from './load-config.ts';
export { defineMailroom, resolveConfig } from './resolve-config.ts';
export type {
  DeliveryOptions,
  HttpOptions,
  MailroomConfig,
  MailroomOptions,
  OutboundOptions,
  ReplyAddressOptions,
  SmtpOptions,
} from './types.ts';
