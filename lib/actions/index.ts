export { drop, handler, mailbox, reject, webhook } from './builders.ts';
export { childLogger, silentLogger } from './child-logger.ts';
export { deliverWebhook } from './deliver-webhook.ts';
export { DeliveryError, WebhookVerificationError } from './errors.ts';
export { isMailboxName } from './mailbox-name.ts';
export { type ActionOutcome, type ActionRun, actionTarget, runAction } from './run-action.ts';
export type {
  Action,
  DropAction,
  Envelope,
  HandlerAction,
  HandlerContext,
  HandlerFn,
  Logger,
  MailboxAction,
  RejectAction,
  WebhookAction,
} from './types.ts';
export type { WebhookPayload } from './webhook-payload.ts';
export { signWebhook, verifyWebhook, webhookSecretKey } from './webhook-signature.ts';
