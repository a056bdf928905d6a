/** Outgoing mail: replies built from the message they answer, loop safety, and the transports. */
export {
  type ComposedReply,
  type ComposeReplyInput,
  composeReply,
  replyReferences,
} from './compose-reply.ts';
export { createOutboundMail, type OutboundMailOptions } from './create-outbound-mail.ts';
export { OutboundConfigError, OutboundError } from './errors.ts';
export {
  encodeWords,
  FORWARDED_FOR_HEADER,
  type ForwardedMessage,
  type ForwardMessageInput,
  formatAddress,
  forwardMessage,
  ORIGINAL_FROM_HEADER,
} from './forward-message.ts';
export {
  type ForwardCheckInput,
  forwardSkipReason,
  MAX_FORWARD_HOPS,
  MAX_RECEIVED_HEADERS,
} from './forward-safety.ts';
export { displayName, headerText } from './header-text.ts';
export { type LoopCheckInput, replySkipReason } from './loop-safety.ts';
export { OutboxMail, type OutboxMailOptions } from './outbox-mail.ts';
export { contextOf } from './raw-message-info.ts';
export { replyKey, replyMessageId } from './reply-id.ts';
export {
  DEFAULT_REPLY_LIMITS,
  type ReplyLimits,
  type ReplyLimitVerdict,
  ReplyRateLimiter,
} from './reply-rate-limit.ts';
export { type ReplyRecipient, type ReplyRecipientInput, replyRecipient } from './reply-recipients.ts';
export { replySubject } from './reply-subject.ts';
export { createReplyFunction, type ReplyDeps, type ReplyOriginal } from './send-reply.ts';
export { domainOf, isSendableAddress, parseSenderAddress } from './sender-address.ts';
export { SmtpRelayMail, type SmtpRelayOptions } from './smtp-relay-mail.ts';
export type {
  OutboundContext,
  OutboundEnvelope,
  OutboundMail,
  OutboundResult,
  ReplyAttachment,
  ReplyOptions,
  ReplyResult,
} from './types.ts';
