// A small support desk: `npx mailroom dev --config examples/support-tickets/mailroom.config.ts`.
// Mail to support@ opens a ticket and is acknowledged (see the outbox at /api/outbox); answers to the
// acknowledgement come back through a signed reply address and join the same ticket with only the new text.
import { defineMailroom, handler, mailbox } from 'mailroom';
import { replyKeys } from '../reply-keys.ts';
import { addToTicket } from './add-to-ticket.ts';
import { openTicket } from './open-ticket.ts';

export default defineMailroom({
  domains: ['example.com'],
  replyAddress: replyKeys,
  outbound: { mode: 'outbox', from: 'Example Support <support@example.com>' },
  routes: [
    { name: 'new-ticket', match: 'support@example.com', action: handler(openTicket) },
    {
      name: 'ticket-reply',
      match: 'reply+{token}@example.com',
      replyToken: { param: 'token' },
      action: handler(addToTicket),
    },
    { name: 'postmaster', match: 'postmaster@example.com', action: mailbox('postmaster') },
  ],
});
