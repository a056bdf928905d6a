import { type HandlerContext, verifyReplyToken } from '../../lib/index.ts';
import { replyKeys } from '../reply-keys.ts';

/**
 * `reply+{token}@example.com`: verifies the signed token, then keeps only what the person wrote
 * (quotes and signature stripped) in mailbox `replies`, together with what the token names.
 */
export async function storeReply(ctx: HandlerContext): Promise<void> {
  const verdict = verifyReplyToken(ctx.params.token ?? '', { keys: replyKeys.keys });
  if (!verdict.ok) {
    ctx.logger.warn('reply token refused', { reason: verdict.reason, recipient: ctx.recipient });
    await ctx.mailboxes.put('replies-refused', { reason: verdict.reason });
    return;
  }
  await ctx.mailboxes.put('replies', { ...verdict.payload, text: ctx.message.reply.text });
}
