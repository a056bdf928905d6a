import * as z from 'zod';
import { DEFAULT_ATTACHMENT_GRACE_HOURS } from '../store/index.ts';

/**
 * The config's `retention` section: how long the local runtime (`mailroom dev`, `mailroom smtp` without a
 * bucket, `mailroom prune`) keeps messages — records, raw bytes and attachments no kept message uses.
 * Absent: `mailroom dev` keeps the newest 500 messages, `mailroom smtp` keeps everything. `{}` keeps
 * everything in both. On AWS the S3 lifecycle and DynamoDB TTL apply instead.
 */
export const retentionSchema = z
  .object({
    maxAgeDays: z
      .number({ message: 'must be a number of days (how long a message is kept)' })
      .positive({ message: 'must be more than 0 days (how long a message is kept)' })
      .max(36_500, { message: 'must be at most 36500 days (leave it out to keep messages of any age)' })
      .optional(),
    maxMessages: z
      .number({ message: 'must be a number of messages (how many of the newest are kept)' })
      .int({ message: 'must be a whole number of messages (how many of the newest are kept)' })
      .min(1, { message: 'must be at least 1 message (leave it out to keep any number)' })
      .optional(),
    attachmentGraceHours: z
      .number({ message: 'must be a number of hours (how long an unreferenced attachment is kept)' })
      .positive({ message: 'must be more than 0 hours (an attachment being stored must survive a prune)' })
      .max(24 * 365, { message: 'must be at most 8760 hours (a year)' })
      .default(DEFAULT_ATTACHMENT_GRACE_HOURS),
  })
  .strict()
  .nullable()
  .default(null);
