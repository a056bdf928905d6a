/**
 * When the processor tries a failing delivery again: exponential backoff with jitter, capped, over a
 * window that starts at the delivery's first failure (`retry` in the config). Pure: no I/O.
 */
import type { ResolvedRetryOptions } from '../config/index.ts';

/**
 * A delivery's retries, kept on its DynamoDB item (`dynamo-deliveries.ts`): how many runs failed in the
 * current window, when the first of them did, when the next attempt is due, and when the window ran out.
 */
export interface DeliveryRetryState {
  /** Runs whose tries failed with a transient error, in this window (1 after the first). */
  failures: number;
  /** ISO 8601: the first failure of this window. */
  firstFailedAt: string;
  /** ISO 8601: when the next attempt is due; absent once the window is over. */
  nextAttemptAt?: string;
  /** ISO 8601: when the window ran out and the delivery was marked failed. */
  gaveUpAt?: string;
}

/** The share of a delay jitter may take off, so that retries of many messages spread out. */
const JITTER = 0.2;

/**
 * Delay before the retry after `failures` failed runs: `initialDelaySeconds` doubled per failure, capped at
 * `maxDelaySeconds`, less up to 20 % of jitter (never more than the cap). In milliseconds.
 */
export function retryDelayMs(failures: number, retry: ResolvedRetryOptions, random: () => number): number {
  const exponent = Math.min(Math.max(0, failures - 1), 30);
  const full = Math.min(retry.initialDelaySeconds * 2 ** exponent, retry.maxDelaySeconds) * 1000;
  return Math.round(full * (1 - JITTER * random()));
}

/**
 * The state after a run's tries of a delivery failed at `now`: the next attempt, or (`nextAttemptAt`
 * absent, `gaveUpAt` set) none when the window that began at the first failure is over. The last attempt
 * is moved up to the window's end rather than skipped. A window that ran out before (a replay made the
 * delivery run again) is not continued: a new one begins.
 */
export function afterFailure(
  previous: DeliveryRetryState | null,
  now: Date,
  retry: ResolvedRetryOptions,
  random: () => number,
): DeliveryRetryState {
  const at = now.toISOString();
  if (!previous || previous.gaveUpAt !== undefined) {
    return { failures: 1, firstFailedAt: at, nextAttemptAt: nextAt(now, 1, now, retry, random) };
  }
  const failures = previous.failures + 1;
  const first = new Date(previous.firstFailedAt);
  if (now.getTime() >= windowEnd(first, retry)) {
    return { failures, firstFailedAt: previous.firstFailedAt, gaveUpAt: at };
  }
  return {
    failures,
    firstFailedAt: previous.firstFailedAt,
    nextAttemptAt: nextAt(first, failures, now, retry, random),
  };
}

function windowEnd(firstFailedAt: Date, retry: ResolvedRetryOptions): number {
  return firstFailedAt.getTime() + retry.windowHours * 3_600_000;
}

function nextAt(first: Date, failures: number, now: Date, retry: ResolvedRetryOptions, random: () => number) {
  const due = Math.min(now.getTime() + retryDelayMs(failures, retry, random), windowEnd(first, retry));
  return new Date(due).toISOString();
}

/** Whether a delivery waiting for its next attempt may be tried at `now`. */
export function attemptDue(state: DeliveryRetryState | null, now: Date): boolean {
  if (!state?.nextAttemptAt) return true;
  return Date.parse(state.nextAttemptAt) <= now.getTime();
}
