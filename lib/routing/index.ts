export { type NormalizedAddress, normalizeAddress, normalizeDomain, normalizeMailFrom } from './address.ts';
export { METHOD_RESULTS } from './conditions.ts';
export { InsecureReplyKeyError, ReplyTokenError, RouteConfigError, RoutingError } from './errors.ts';
export { recipientPatternDomain } from './recipient-pattern.ts';
export {
  type CreateReplyAddressOptions,
  createReplyToken,
  DEFAULT_REPLY_TOKEN_LIFETIME_SECONDS,
  type ReplyTokenFailure,
  type ReplyTokenOptions,
  type ReplyTokenVerification,
  type ReplyTokenVerifyOptions,
  replyAddress,
  verifyReplyToken,
} from './reply-address.ts';
export {
  assertProductionReplyKeys,
  DEV_REPLY_KEY,
  DEV_REPLY_KEY_PREFIX,
  isDevReplyKey,
  MIN_PRODUCTION_REPLY_KEY_LENGTH,
  weakReplyKeyReason,
} from './reply-keys.ts';
export type { ReplyPayload } from './reply-payload.ts';
export { createRouter, routerFromConfig } from './router.ts';
export type {
  AuthConditions,
  ContentResult,
  RecipientDecision,
  RecipientExplanation,
  RecipientPattern,
  RecipientVerdict,
  ReplyTokenRoute,
  Route,
  RouteConditions,
  RouteConsideration,
  RouteMatch,
  Router,
  RouterConfig,
  RouterOptions,
  RoutingInput,
  ValuePattern,
  VerifiedReplyToken,
} from './types.ts';
export { CONTENT_RESULTS } from './types.ts';
