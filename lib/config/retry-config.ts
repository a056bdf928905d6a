import * as z from 'zod';

/**
 * How long and how often the processing Lambda keeps retrying a delivery that fails with a transient error
 * (a timeout, a 5xx, a 408/429, a throttled AWS call). Each failed attempt reschedules the delivery after an
 * exponential delay (`initialDelaySeconds` doubled per failure, capped at `maxDelaySeconds`, with jitter)
 * until `windowHours` after its first failure; then it is marked `failed` and kept for replay. A permanent
 * error (another 4xx, a config error) fails at once. The local server retries in place (`delivery`).
 */
export interface RetryOptions {
  /** How long after its first failure a delivery keeps being retried. @default 24 */
  windowHours?: number;
  /** Delay before the first retry. @default 30 */
  initialDelaySeconds?: number;
  /** Longest delay between two retries. @default 3600 (1 hour) */
  maxDelaySeconds?: number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetryOptions = {
  windowHours: 24,
  initialDelaySeconds: 30,
  maxDelaySeconds: 3600,
};

/** SQS keeps a message at most 14 days: a longer window could outlive the records it retries. */
const MAX_WINDOW_HOURS = 14 * 24;

const seconds = (what: string, max: number) =>
  z
    .number({ message: `must be a number of seconds (${what})` })
    .int({ message: `must be a whole number of seconds (${what})` })
    .min(1, { message: `must be at least 1 second (${what})` })
    .max(max, { message: `must be at most ${max} seconds (${what})` });

/** The config's `retry` section; every field is optional (see {@link DEFAULT_RETRY}). */
export const retrySchema = z
  .object({
    windowHours: z
      .number({ message: 'must be a number of hours (how long a failing delivery is retried)' })
      .positive({ message: 'must be more than 0 hours (how long a failing delivery is retried)' })
      .max(MAX_WINDOW_HOURS, {
        message: `must be at most ${MAX_WINDOW_HOURS} hours (14 days, the longest SQS keeps a message)`,
      })
      .default(DEFAULT_RETRY.windowHours),
    initialDelaySeconds: seconds('delay before the first retry', 3600).default(
      DEFAULT_RETRY.initialDelaySeconds,
    ),
    maxDelaySeconds: seconds('longest delay between retries', 12 * 3600).default(
      DEFAULT_RETRY.maxDelaySeconds,
    ),
  })
  .strict()
  .refine((r) => r.maxDelaySeconds >= r.initialDelaySeconds, {
    message: 'must not be shorter than initialDelaySeconds',
    path: ['maxDelaySeconds'],
  })
  .prefault({});
