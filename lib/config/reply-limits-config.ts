import * as z from 'zod';
import { DEFAULT_REPLY_LIMITS } from '../outbound/index.ts';

const limit = (what: string) =>
  z
    .number({ message: `must be a number of replies ${what}` })
    .int({ message: `must be a whole number of replies ${what}` })
    .positive({ message: `must be at least 1 reply ${what}` });

/**
 * The config's `outbound.replyLimits` section: how many `ctx.reply` messages may be sent (see
 * `ReplyRateLimiter`). Every field is optional; the defaults are {@link DEFAULT_REPLY_LIMITS}.
 */
export const replyLimitsSchema = z
  .object({
    perRecipientPerHour: limit('to one address per hour').default(DEFAULT_REPLY_LIMITS.perRecipientPerHour),
    perMinute: limit('per minute').default(DEFAULT_REPLY_LIMITS.perMinute),
  })
  .strict()
  .prefault({});
