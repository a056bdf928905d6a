import type {
  DropAction,
  EventBridgeAction,
  ForwardAction,
  HandlerAction,
  HandlerFn,
  LambdaAction,
  MailboxAction,
  RejectAction,
  WebhookAction,
} from './types.ts';

/** Store the message in a named mailbox (once per message, however many recipients route there). */
export function mailbox(name: string): MailboxAction {
  return { kind: 'mailbox', mailbox: name };
}

/** Run an in-process handler. `name` defaults to the function's name. */
export function handler(fn: HandlerFn, name?: string): HandlerAction {
  return { kind: 'handler', fn, name: name ?? (fn.name || 'handler') };
}

/** POST the message as JSON, signed the Standard Webhooks way when a secret is given. */
export function webhook(url: string, options: { secret?: string; timeoutMs?: number } = {}): WebhookAction {
  return { kind: 'webhook', url, ...options };
}

/**
 * Refuse the recipient at RCPT time.
 * @param code SMTP reply code. @default 550
 * @param text Enhanced status code and text. @default '5.7.1 Recipient rejected'
 */
export function reject(code = 550, text = '5.7.1 Recipient rejected'): RejectAction {
  return { kind: 'reject', code, text };
}

/** Accept and discard (recorded as `dropped`). */
export function drop(): DropAction {
  return { kind: 'drop' };
}

/**
 * Invoke an AWS Lambda function asynchronously with the message as a `CloudActionEvent`.
 * @param functionName Function name, ARN or partial ARN.
 * @param options.qualifier Version or alias. @default none
 */
export function lambda(functionName: string, options: { qualifier?: string } = {}): LambdaAction {
  return { kind: 'lambda', functionName, ...options };
}

/**
 * Put the message as one event on an Amazon EventBridge bus.
 * @param eventBusName Bus name or ARN.
 * @param options.source @default 'mailroom'
 * @param options.detailType @default 'mailroom.message'
 */
export function eventBridge(
  eventBusName: string,
  options: { source?: string; detailType?: string } = {},
): EventBridgeAction {
  return { kind: 'eventBridge', eventBusName, ...options };
}

/**
 * Forward the message to one or more addresses, From rewritten to a verified sending address and the
 * original sender in Reply-To (see {@link ForwardAction}).
 * @param options.from The forwarded message's From. @default `MAILROOM_FORWARD_FROM`, else the recipient
 */
export function forward(to: string | string[], options: { from?: string } = {}): ForwardAction {
  return { kind: 'forward', to: Array.isArray(to) ? [...to] : [to], ...options };
}
