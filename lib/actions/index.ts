export { childLogger, silentLogger } from '../kernel/index.ts';
export { drop, eventBridge, forward, handler, lambda, mailbox, reject, webhook } from './builders.ts';
export {
  type BuildCloudEventOptions,
  buildCloudEvent,
  type CloudActionEvent,
  type CloudAuthSummary,
  type CloudEventInput,
  type CloudMessageSummary,
  MAX_CLOUD_EVENT_BYTES,
} from './cloud-event.ts';
export type {
  CloudActionPorts,
  CloudActionResult,
  ForwardRequest,
  LambdaInvokeRequest,
  PutEventRequest,
  RawLocation,
} from './cloud-ports.ts';
export { deliverWebhook } from './deliver-webhook.ts';
export { DeliveryError, WebhookVerificationError } from './errors.ts';
export {
  createLocalActionPorts,
  type LocalActionPorts,
  type LocalActionPortsOptions,
  type RecordedCloudAction,
} from './local-action-ports.ts';
export { isMailboxName } from './mailbox-name.ts';
export { type ActionOutcome, type ActionRun, actionTarget, runAction } from './run-action.ts';
export { DEFAULT_EVENT_DETAIL_TYPE, DEFAULT_EVENT_SOURCE, forwardKey } from './run-cloud-action.ts';
export type {
  Action,
  DropAction,
  Envelope,
  EventBridgeAction,
  ForwardAction,
  HandlerAction,
  HandlerContext,
  HandlerFn,
  LambdaAction,
  Logger,
  MailboxAction,
  RejectAction,
  WebhookAction,
} from './types.ts';
export type { WebhookPayload } from './webhook-payload.ts';
export { signWebhook, verifyWebhook, webhookSecretKey } from './webhook-signature.ts';
