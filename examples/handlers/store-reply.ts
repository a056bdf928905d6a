import type { HandlerContext } from 'mailroom';

/**
 * `reply+{token}@example.com` (route option `replyToken: { param: 'token' }`): the router has verified the
 * signed token before this runs, and its payload is in the params as `token.<field>`. Keeps only what the
 * person wrote (quotes and signature stripped) in mailbox `replies`, with the ticket the token names.
 */
export async function storeReply(ctx: HandlerContext): Promise<void> {
  const ticket = ctx.params['token.ticket'];
  if (ticket === undefined) {
    ctx.logger.warn('reply token names no ticket', { recipient: ctx.recipient });
    return;
  }
  await ctx.mailboxes.put('replies', { ticket: Number(ticket), text: ctx.message.reply.text });
}
