import * as z from 'zod';
import { ProcessEnvError } from './processor-errors.ts';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));
const prefix = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : v))
    .refine((v) => !v.startsWith('/'), { message: 'must not start with /' });

/**
 * The environment the processing Lambda reads, validated once (set by the CDK construct):
 * - `MAILROOM_RAW_BUCKET` (required), `MAILROOM_TABLE` (required)
 * - `MAILROOM_SMTP_PREFIX` (default `smtp/`), `MAILROOM_SES_PREFIX` (default `ses/`)
 * - `MAILROOM_EVENT_BUS`: publish `mailroom.received` / `mailroom.routed` (source `mailroom`) there
 * - `MAILROOM_RETENTION_DAYS`: records expire that many days after receipt (DynamoDB TTL)
 * - `MAILROOM_QUEUE_URL`: the processing queue, where a delivery that failed transiently is rescheduled
 *   (see `retry-deliveries.ts`); unset: SQS's redelivery retries the message
 * - `MAILROOM_FORWARD_FROM`: the verified SES address `forward()` sends from
 * - `MAILROOM_SES_CONFIGURATION_SET`: SES configuration set for handlers' replies (`ctx.reply`, always sent
 *   through SES here; the config's `outbound.mode` is for local and self-hosted processing)
 * - the SDK's own: `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` for emulators (path-style S3 URLs are used
 *   whenever an S3 endpoint is set).
 * `MAILROOM_LOG_LEVEL` is read by the console logger, `MAILROOM_REPLY_KEY_SECRET_ARN` by `reply-key-secret.ts`.
 */
export const processEnvSchema = z.object({
  MAILROOM_RAW_BUCKET: z.string({ error: 'required' }).trim().min(1, { message: 'required' }),
  MAILROOM_TABLE: z.string({ error: 'required' }).trim().min(1, { message: 'required' }),
  MAILROOM_SMTP_PREFIX: prefix('smtp/'),
  MAILROOM_SES_PREFIX: prefix('ses/'),
  MAILROOM_EVENT_BUS: optionalText,
  MAILROOM_RETENTION_DAYS: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? Number(v) : undefined))
    .refine((v) => v === undefined || (Number.isInteger(v) && v > 0), {
      message: 'must be a whole number of days > 0',
    }),
  MAILROOM_QUEUE_URL: optionalText,
  MAILROOM_FORWARD_FROM: optionalText,
  MAILROOM_SES_CONFIGURATION_SET: optionalText,
  AWS_ENDPOINT_URL_S3: optionalText,
  AWS_ENDPOINT_URL: optionalText,
});

export type ProcessEnv = z.infer<typeof processEnvSchema>;

/** @throws ProcessEnvError naming every bad variable. */
export function parseProcessEnv(env: Record<string, string | undefined>): ProcessEnv {
  const parsed = processEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new ProcessEnvError(`processor environment: ${problems.join('; ')}`, { cause: parsed.error });
}
