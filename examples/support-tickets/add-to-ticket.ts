import type { HandlerContext } from 'mailroom';

/**
 * `reply+{token}@example.com`: the router has verified the signed token (a forged or expired one never gets
 * here), so `token.tk` names the ticket. Keeps only what the customer wrote, without the quoted history.
 */
export async function addToTicket(ctx: HandlerContext): Promise<void> {
  await ctx.mailboxes.put('tickets', {
    ticket: ctx.params['token.tk'],
    kind: 'reply',
    from: ctx.message.from?.address ?? ctx.envelope.mailFrom,
    text: ctx.message.reply.text,
  });
}
