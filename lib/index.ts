// The `mailroom` package: config, routing, actions, handler types, the parser and the building blocks.
// Every action kind's builder (mailbox(), webhook(), log(), …), as lib/actions/builders.ts lists them.
export * from './actions/builders.ts';
export {
  type Action,
  type CloudActionEvent,
  type CloudActionPorts,
  createLocalActionPorts,
  DeliveryError,
  type Envelope,
  type HandlerAttachment,
  type HandlerContext,
  type HandlerFn,
  type Logger,
  type PayloadAttachment,
  signWebhook,
  verifyWebhook,
  type WebhookPayload,
  WebhookVerificationError,
} from './actions/index.ts';
export {
  type ArcVerdict,
  type AuthResult,
  type AuthVerdicts,
  authenticateMessage,
  authenticationResultsHeader,
  authSummary,
  type ContentVerdict,
  createStaticResolver,
  createSystemResolver,
  type DkimVerdict,
  type DmarcVerdict,
  DnsError,
  type DnsResolver,
  isDmarcAligned,
  type SpfVerdict,
  type StaticZone,
} from './auth/index.ts';
export {
  type AttachmentOptions,
  type AuthOptions,
  ConfigError,
  configWarnings,
  defineMailroom,
  loadConfig,
  type MailroomConfig,
  type MailroomOptions,
  type OutboundOptions,
  type ReplyAddressOptions,
  resolveConfig,
  type ScanOptions,
} from './config/index.ts';
export type { Address, Attachment, ParsedMessage, ParseLimits } from './message/index.ts';
export { parseMessage } from './message/index.ts';
export {
  createOutboundMail,
  OutboundConfigError,
  OutboundError,
  type OutboundMail,
  OutboxMail,
  type ReplyOptions,
  type ReplyResult,
  SmtpRelayMail,
} from './outbound/index.ts';
export { createPipeline, type Pipeline, type PipelineEvent } from './pipeline/index.ts';
export {
  type AuthConditions,
  type ContentResult,
  createReplyToken,
  createRouter,
  DEV_REPLY_KEY,
  isDevReplyKey,
  type RecipientPattern,
  type ReplyTokenRoute,
  type Route,
  type RouteConditions,
  type Router,
  replyAddress,
  routerFromConfig,
  type VerifiedReplyToken,
  verifyReplyToken,
} from './routing/index.ts';
export type { MessageDetail, MessageStore, MessageSummary, RawStore } from './store/index.ts';
