import type {
  DropAction,
  HandlerAction,
  HandlerFn,
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
