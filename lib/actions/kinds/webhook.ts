import * as z from 'zod';
import { defineActionKind } from '../action-kind.ts';
import { payloadAttachments } from '../attachment-access.ts';
import { deliverWebhook, type WebhookTarget } from '../deliver-webhook.ts';

export interface WebhookAction extends WebhookTarget {
  kind: 'webhook';
}

/** POST the message as JSON, signed the Standard Webhooks way when a secret is given. */
export function webhook(url: string, options: { secret?: string; timeoutMs?: number } = {}): WebhookAction {
  return { kind: 'webhook', url, ...options };
}

/** The URL without credentials and query (which may carry tokens). */
function shownUrl(action: WebhookAction): string | undefined {
  try {
    const url = new URL(action.url);
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** `webhook()`: POSTs the signed JSON payload; any 2xx answer delivers. */
export const webhookKind = defineActionKind<WebhookAction>({
  kind: 'webhook',
  schema: z.object({
    kind: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
    secret: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().optional(),
  }),
  target: shownUrl,
  describe: (action) => ({ url: action.url, signed: Boolean(action.secret) }),
  async run(action, run) {
    const now = run.now ?? (() => new Date());
    const { status } = await deliverWebhook(
      action,
      {
        type: 'message.received',
        id: run.idempotencyKey,
        timestamp: now().toISOString(),
        data: {
          id: run.messageId,
          envelope: run.envelope,
          recipient: run.recipient,
          recipients: run.recipients,
          route: run.route,
          params: run.params,
          message: { ...run.message, attachments: await payloadAttachments(run) },
          auth: run.auth,
        },
      },
      { now, signal: run.signal, fetch: run.fetch },
    );
    return { status: 'delivered', detail: `webhook ${shownUrl(action) ?? ''} answered ${status}` };
  },
});
