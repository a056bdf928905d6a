import * as z from 'zod';
import { defineActionKind } from '../action-kind.ts';
import { MAILBOX_NAME, putMailboxEntry } from '../mailbox-entry.ts';

export interface MailboxAction {
  kind: 'mailbox';
  mailbox: string;
}

/** Store the message in a named mailbox (once per message, however many recipients route there). */
export function mailbox(name: string): MailboxAction {
  return { kind: 'mailbox', mailbox: name };
}

/** `mailbox()`: a mailbox entry (idempotent: a mailbox holds a message once). */
export const mailboxKind = defineActionKind<MailboxAction>({
  kind: 'mailbox',
  effectInStore: true,
  schema: z.object({
    kind: z.literal('mailbox'),
    mailbox: z.string().regex(MAILBOX_NAME, {
      message: 'mailbox names are 1–64 letters, digits, dot, underscore or dash',
    }),
  }),
  target: (action) => action.mailbox,
  describe: (action) => ({ mailbox: action.mailbox }),
  async run(action, run) {
    const data = { route: run.route, recipients: run.recipients, params: run.params };
    const created = await putMailboxEntry(run, action.mailbox, data, run.now ?? (() => new Date()));
    return {
      status: 'delivered',
      detail: created ? `stored in mailbox ${action.mailbox}` : `mailbox ${action.mailbox} already held it`,
    };
  },
});
