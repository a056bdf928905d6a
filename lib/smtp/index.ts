export { createSmtpIngress } from './create-smtp-ingress.ts';
export {
  type BareCharacter,
  BareLineEndingError,
  IngressConfigError,
  LimitError,
  MessageRejectedError,
  MessageTooBigError,
  PipeliningError,
  ProxyProtocolError,
  RecipientRejectedError,
  SmtpReplyError,
  SmtpServerChangedError,
  TemporaryFailureError,
  TooManyRecipientsError,
} from './errors.ts';
export {
  type IngressListeners,
  type IngressListenersOptions,
  startIngressListeners,
} from './ingress-listeners.ts';
export { smtpDefaults } from './limits.ts';
export {
  looksLikeProxyHeader,
  type ProxyHeader,
  parseProxyHeader,
  readProxyHeader,
} from './proxy-protocol.ts';
export { type ReceivedHeaderInput, receivedHeader, rfc5322Date } from './received-header.ts';
export type { AcceptInput, InspectResult, SmtpIngress, SmtpIngressDeps, SubmissionAuth } from './types.ts';
