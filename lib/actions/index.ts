export { childLogger, silentLogger } from '../kernel/index.ts';
export { type ActionGrant, type ActionKind, defineActionKind } from './action-kind.ts';
export type {
  AttachmentAccess,
  AttachmentLinkRef,
  HandlerAttachment,
  PayloadAttachment,
} from './attachment-access.ts';
export * from './builders.ts';
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
  CloudPortName,
  ForwardRequest,
  LambdaInvokeRequest,
  PutEventRequest,
  RawLocation,
} from './cloud-port-contract.ts';
export { deliverWebhook, type WebhookTarget } from './deliver-webhook.ts';
export { DeliveryError, isRetryableStatus, WebhookVerificationError } from './errors.ts';
export { DEFAULT_EVENT_DETAIL_TYPE, DEFAULT_EVENT_SOURCE } from './kinds/event-bridge.ts';
export { forwardKey } from './kinds/forward.ts';
export {
  createLocalActionPorts,
  type LocalActionPorts,
  type LocalActionPortsOptions,
  type RecordedCloudAction,
} from './local-port-stand-ins.ts';
export { isMailboxName } from './mailbox-entry.ts';
export {
  actionGrants,
  actionKindNames,
  actionSchemas,
  cloudPortsUsed,
  describeAction,
  effectInStore,
} from './registry.ts';
export { type ActionOutcome, type ActionRun, actionTarget, runAction } from './run-action.ts';
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
export type { DeliveryEventData, DeliveryFacts, WebhookPayload } from './webhook-payload.ts';
export { signWebhook, verifyWebhook, webhookSecretKey } from './webhook-signature.ts';
