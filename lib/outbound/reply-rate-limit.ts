/** How many replies `ctx.reply` may send (the `outbound.replyLimits` config section). */
export interface ReplyLimits {
  /** Replies to one address (compared case-insensitively) in any 60 minutes. @default 10 */
  perRecipientPerHour: number;
  /** Replies to anyone in any 60 seconds (per process). @default 60 */
  perMinute: number;
}

export const DEFAULT_REPLY_LIMITS: Readonly<ReplyLimits> = { perRecipientPerHour: 10, perMinute: 60 };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The answer of {@link ReplyRateLimiter.take}. */
export type ReplyLimitVerdict =
  | {
      ok: true;
      /** Gives the reply back (its send failed, so it did not count). */
      release(): void;
    }
  | {
      ok: false;
      /** Which limit was reached. */
      limit: 'recipient' | 'global';
      /** One line for the handler, the trace and the log. */
      reason: string;
      /** When the next reply would be allowed. */
      retryAfterMs: number;
    };

/**
 * Sliding-window counts of sent replies, in memory: one log of send times per recipient (at most
 * `perRecipientPerHour` entries each) and one overall (at most `perMinute`). Memory is bounded by the
 * global limit: at most `perMinute × 60` recipients are live in any hour; older ones are swept hourly.
 * One instance per process (per pipeline): on AWS each Lambda container counts for itself.
 */
export class ReplyRateLimiter {
  readonly limits: Readonly<ReplyLimits>;
  readonly #now: () => number;
  readonly #global: number[] = [];
  readonly #byRecipient = new Map<string, number[]>();
  #lastSweep: number;

  constructor(limits: Partial<ReplyLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_REPLY_LIMITS, ...limits };
    this.#now = now;
    this.#lastSweep = now();
  }

  /** Counts one reply to `address` when both limits allow it. */
  take(address: string): ReplyLimitVerdict {
    const at = this.#now();
    this.#sweep(at);
    const key = address.toLowerCase();
    drop(this.#global, at - MINUTE);
    const mine = this.#byRecipient.get(key) ?? [];
    drop(mine, at - HOUR);
    const { perRecipientPerHour, perMinute } = this.limits;
    if (mine.length >= perRecipientPerHour) {
      return {
        ok: false,
        limit: 'recipient',
        reason: `rate limit: ${perRecipientPerHour} replies to ${address} in the last hour (outbound.replyLimits.perRecipientPerHour)`,
        retryAfterMs: mine[0]! + HOUR - at,
      };
    }
    if (this.#global.length >= perMinute) {
      return {
        ok: false,
        limit: 'global',
        reason: `rate limit: ${perMinute} replies in the last minute (outbound.replyLimits.perMinute)`,
        retryAfterMs: this.#global[0]! + MINUTE - at,
      };
    }
    mine.push(at);
    this.#global.push(at);
    this.#byRecipient.set(key, mine);
    return {
      ok: true,
      release: () => {
        remove(mine, at);
        remove(this.#global, at);
      },
    };
  }

  /** How many addresses are counted now (for tests and metrics). */
  recipientsTracked(): number {
    return this.#byRecipient.size;
  }

  /** Forgets recipients with no reply in the last hour, at most once an hour (linear in the map). */
  #sweep(at: number): void {
    if (at - this.#lastSweep < HOUR) return;
    this.#lastSweep = at;
    for (const [key, times] of this.#byRecipient) {
      drop(times, at - HOUR);
      if (times.length === 0) this.#byRecipient.delete(key);
    }
  }
}

/** Removes the entries at or before `cutoff` from an ascending log. */
function drop(times: number[], cutoff: number): void {
  let n = 0;
  while (n < times.length && times[n]! <= cutoff) n++;
  if (n > 0) times.splice(0, n);
}

function remove(times: number[], at: number): void {
  const i = times.lastIndexOf(at);
  if (i >= 0) times.splice(i, 1);
}
