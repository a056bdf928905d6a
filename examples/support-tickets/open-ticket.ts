import { type HandlerContext, replyAddress } from 'mailroom';
import { replyKeys } from '../reply-keys.ts';

/** Ticket ids are the first 12 hex digits of the thread: short enough for a signed reply address. */
export function ticketIdOf(ctx: HandlerContext): string {
  return ctx.message.thread.id.slice(0, 12);
}

/**
 * `support@example.com`: opens a ticket and acknowledges it. The acknowledgement's Reply-To is a signed
 * `reply+<token>@example.com` naming the ticket, so the customer's answer routes back to it (see
 * add-to-ticket.ts) and cannot be forged or pointed at someone else's ticket.
 */
export async function openTicket(ctx: HandlerContext): Promise<void> {
  const ticket = ticketIdOf(ctx);
  await ctx.mailboxes.put('tickets', {
    ticket,
    kind: 'opened',
    from: ctx.message.from?.address ?? ctx.envelope.mailFrom,
    subject: ctx.message.subject,
    text: ctx.message.reply.text,
  });
  const address = replyAddress(
    { tk: ticket },
    { domain: 'example.com', ...replyKeys, expiresInSeconds: 90 * 86_400 },
  );
  const result = await ctx.reply({
    text: `Thanks for writing to us. Your request is ticket ${ticket}.\n\nReply to this email to add to it.\n`,
    replyTo: address,
  });
  if (result.skipped) ctx.logger.info('no acknowledgement sent', { reason: result.reason });
}
