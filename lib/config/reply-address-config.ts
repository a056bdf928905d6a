import * as z from 'zod';

/** Longest reply token lifetime a config may ask for: tokens are bearer credentials for a thread. */
const MAX_LIFETIME_SECONDS = 10 * 365 * 86_400;

/**
 * The config's `replyAddress` section. Signing keys need 16+ characters here (so `mailroom dev` runs with
 * the example's development key); `mailroom smtp` and the Lambda ask more at start (see
 * `assertProductionReplyKeys`).
 */
export const replyAddressSchema = z
  .object({
    keys: z.record(
      z.string().regex(/^[a-z0-9]$/, { message: 'key ids are one character a–z or 0–9' }),
      z.string().min(16, { message: 'signing keys need at least 16 characters' }),
    ),
    currentKeyId: z.string(),
    expiresInSeconds: z
      .number()
      .int({ message: 'must be a whole number of seconds' })
      .positive({ message: 'must be a whole number of seconds > 0' })
      .max(MAX_LIFETIME_SECONDS, { message: `must be at most ${MAX_LIFETIME_SECONDS} (10 years)` })
      .optional(),
    allowNoExpiry: z.boolean().optional(),
  })
  .strict()
  .refine((r) => r.currentKeyId in r.keys, {
    message: 'currentKeyId must name one of keys',
    path: ['currentKeyId'],
  })
  .nullable()
  .default(null);
