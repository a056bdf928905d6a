// The types of actions and handlers, each defined beside its kind (kinds/).
export type { Envelope, Logger } from '../kernel/index.ts';
export type { ActionGrant, ActionKind } from './action-kind.ts';
export type { DropAction } from './kinds/drop.ts';
export type { EventBridgeAction } from './kinds/event-bridge.ts';
export type { ForwardAction } from './kinds/forward.ts';
export type { HandlerAction, HandlerContext, HandlerFn } from './kinds/handler.ts';
export type { Action } from './kinds/index.ts';
export type { LambdaAction } from './kinds/lambda.ts';
export type { MailboxAction } from './kinds/mailbox.ts';
export type { RejectAction } from './kinds/reject.ts';
export type { WebhookAction } from './kinds/webhook.ts';
