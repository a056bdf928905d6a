// The action kinds: one file each; adding a kind is its file, plus its import and entry in this list.
// The `Action` union, the config schema, `actionTarget`, `mailroom route`'s display, the AWS ports to load
// and the CDK grants are derived from it (see ../registry.ts); config errors list the kinds in this order.
import type { ActionKind } from '../action-kind.ts';
import { dropKind } from './drop.ts';
import { eventBridgeKind } from './event-bridge.ts';
import { forwardKind } from './forward.ts';
import { handlerKind } from './handler.ts';
import { lambdaKind } from './lambda.ts';
import { logKind } from './log.ts';
import { mailboxKind } from './mailbox.ts';
import { rejectKind } from './reject.ts';
import { webhookKind } from './webhook.ts';

export const ACTION_KINDS = [
  mailboxKind,
  handlerKind,
  webhookKind,
  rejectKind,
  dropKind,
  lambdaKind,
  eventBridgeKind,
  forwardKind,
  logKind,
] as const;

/** The action a kind defines. */
export type ActionOf<K> = K extends ActionKind<infer A> ? A : never;

/** Every action a route can name: the union of the registered kinds' actions. */
export type Action = ActionOf<(typeof ACTION_KINDS)[number]>;
