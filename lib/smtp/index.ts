export { createSmtpIngress } from './create-smtp-ingress.ts';
export {
  MessageTooBigError,
  RecipientRejectedError,
  SmtpReplyError,
  TemporaryFailureError,
  TooManyRecipientsError,
} from './errors.ts';
export { type ReceivedHeaderInput, receivedHeader, rfc5322Date } from './received-header.ts';
export type { AcceptInput, SmtpIngress, SmtpIngressDeps } from './types.ts';
