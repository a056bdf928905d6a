// The action builders of the `mailroom` package, each defined beside its kind (kinds/).
export { drop } from './kinds/drop.ts';
export { eventBridge } from './kinds/event-bridge.ts';
export { forward } from './kinds/forward.ts';
export { handler } from './kinds/handler.ts';
export { lambda } from './kinds/lambda.ts';
export { log } from './kinds/log.ts';
export { mailbox } from './kinds/mailbox.ts';
export { reject } from './kinds/reject.ts';
export { webhook } from './kinds/webhook.ts';
