import type { HandlerContext } from 'mailroom';

/**
 * `orders+{id}@…`: keeps the order number, who sent it and the subject in mailbox `orders`. A handler may
 * run more than once for one message (a retry after a failure, `mailroom replay`): `ctx.idempotencyKey`
 * stays the same across runs, and `ctx.mailboxes.put` keeps a message in a mailbox once.
 */
export async function onOrder(ctx: HandlerContext): Promise<void> {
  await ctx.mailboxes.put('orders', {
    order: ctx.params.id,
    from: ctx.message.from?.address ?? ctx.envelope.mailFrom,
    subject: ctx.message.subject,
  });
}
