export { type NormalizedAddress, normalizeAddress, normalizeDomain, normalizeMailFrom } from './address.ts';
export { ReplyTokenError, RouteConfigError, RoutingError } from './errors.ts';
export {
  type CreateReplyAddressOptions,
  createReplyToken,
  type ReplyTokenFailure,
  type ReplyTokenOptions,
  type ReplyTokenVerification,
  type ReplyTokenVerifyOptions,
  replyAddress,
  verifyReplyToken,
} from './reply-address.ts';
export type { ReplyPayload } from './reply-payload.ts';
export {
  createRouter,
  type Router,
  type RouterConfig,
  type RouterOptions,
  routerFromConfig,
} from './router.ts';
export type {
  AuthConditions,
  RecipientDecision,
  RecipientPattern,
  RecipientVerdict,
  ReplyTokenRoute,
  Route,
  RouteConditions,
  RouteMatch,
  RoutingInput,
  ValuePattern,
  VerifiedReplyToken,
} from './types.ts';
